// Thread resolution from Message-ID / In-Reply-To / References (per mailbox). Every id a message
// has or references is mapped to a thread in email_thread_refs, so a reply arriving before its
// parent still joins the parent's thread later; when a message links two existing threads
// (e.g. its References name messages from both), the threads are merged into one.
import type { Transaction } from 'kysely';
import type { Database } from '../../schema.js';
import { newId } from '../../platform/db/index.js';

export async function resolveThread(tx: Transaction<Database>, mailboxId: string, ownId: string | null, referenced: string[]): Promise<string> {
  const ids = [...new Set([...(ownId ? [ownId] : []), ...referenced])].slice(0, 200);
  if (ids.length === 0) return newId();
  const rows = await tx.selectFrom('email_thread_refs').select(['message_id', 'thread_id']).where('mailbox_id', '=', mailboxId).where('message_id', 'in', ids).execute();
  const threads = [...new Set(rows.map((r) => r.thread_id))].sort();
  const threadId = threads[0] ?? newId();
  const losers = threads.slice(1);
  if (losers.length > 0) {
    await tx.updateTable('emails').set({ thread_id: threadId }).where('mailbox_id', '=', mailboxId).where('thread_id', 'in', losers).execute();
    await tx.updateTable('email_thread_refs').set({ thread_id: threadId }).where('mailbox_id', '=', mailboxId).where('thread_id', 'in', losers).execute();
  }
  const known = new Set(rows.map((r) => r.message_id));
  const fresh = ids.filter((id) => !known.has(id));
  if (fresh.length) {
    await tx
      .insertInto('email_thread_refs')
      .values(fresh.map((message_id) => ({ mailbox_id: mailboxId, message_id, thread_id: threadId })))
      .onConflict((oc) => oc.columns(['mailbox_id', 'message_id']).doUpdateSet({ thread_id: threadId }))
      .execute();
  }
  return threadId;
}
