// Thread resolution from Message-ID / In-Reply-To / References (per mailbox). Every id a message
// has or references is mapped to a thread in email_thread_refs, so a reply arriving before its
// parent still joins the parent's thread later; when a message links two existing threads
// (e.g. its References name messages from both), the threads are merged into one.
import type { Transaction } from 'kysely';
import type { Database } from '../../schema.js';
import { newId } from '../../platform/db/index.js';

export async function resolveThread(tx: Transaction<Database>, mailboxId: string, ownId: string | null, referenced: string[]): Promise<string> {
  return (await resolveThreads(tx, mailboxId, [{ ownId, referenced }]))[0];
}

export interface ThreadInput {
  ownId: string | null;
  referenced: string[];
}

/**
 * resolveThread for a whole batch, in order, with one lookup of every id the batch names and
 * bulk writes — the per-message version cost three statements per message and dominated a first
 * sync (bench/mail.ts). Same rules: a message joins the thread of any id it has or references
 * (including earlier messages of the batch); when it links several threads they merge into the
 * smallest thread id. Merges also reach the batch's own earlier messages, so every returned id is
 * a live thread.
 */
export async function resolveThreads(tx: Transaction<Database>, mailboxId: string, msgs: ThreadInput[]): Promise<string[]> {
  const idLists = msgs.map((m) => [...new Set([...(m.ownId ? [m.ownId] : []), ...m.referenced])].slice(0, 200));
  const all = [...new Set(idLists.flat())];
  const ref = new Map<string, string>();
  for (let i = 0; i < all.length; i += 500) {
    const rows = await tx.selectFrom('email_thread_refs').select(['message_id', 'thread_id']).where('mailbox_id', '=', mailboxId).where('message_id', 'in', all.slice(i, i + 500)).execute();
    for (const r of rows) ref.set(r.message_id, r.thread_id);
  }
  // Union-find over thread ids; a merged set is always represented by its smallest id.
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.has(r)) r = parent.get(r)!;
    for (let x = t; x !== r; ) {
      const next = parent.get(x)!;
      parent.set(x, r);
      x = next;
    }
    return r;
  };
  const losers = new Set<string>();
  const freshRefs = new Set<string>();
  const winners = idLists.map((ids) => {
    if (ids.length === 0) return newId();
    const threads = [...new Set(ids.filter((id) => ref.has(id)).map((id) => find(ref.get(id)!)))].sort();
    const threadId = threads[0] ?? newId();
    for (const l of threads.slice(1)) {
      parent.set(l, threadId);
      losers.add(l);
    }
    for (const id of ids) {
      if (!ref.has(id)) {
        ref.set(id, threadId);
        freshRefs.add(id);
      }
    }
    return threadId;
  });
  if (losers.size > 0) {
    const byWinner = new Map<string, string[]>();
    for (const l of losers) {
      const w = find(l);
      byWinner.set(w, [...(byWinner.get(w) ?? []), l]);
    }
    for (const [w, ls] of byWinner) {
      await tx.updateTable('emails').set({ thread_id: w }).where('mailbox_id', '=', mailboxId).where('thread_id', 'in', ls).execute();
      await tx.updateTable('email_thread_refs').set({ thread_id: w }).where('mailbox_id', '=', mailboxId).where('thread_id', 'in', ls).execute();
    }
  }
  const rows = [...freshRefs].map((message_id) => ({ mailbox_id: mailboxId, message_id, thread_id: find(ref.get(message_id)!) }));
  for (let i = 0; i < rows.length; i += 300) {
    await tx
      .insertInto('email_thread_refs')
      .values(rows.slice(i, i + 300))
      .onConflict((oc) => oc.columns(['mailbox_id', 'message_id']).doUpdateSet((eb) => ({ thread_id: eb.ref('excluded.thread_id') })))
      .execute();
  }
  return winners.map(find);
}
