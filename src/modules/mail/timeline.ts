// Emails in CRM record timelines (B5): entries for emails linked to a contact or account, limited
// to mailboxes the viewing user may read (S2: nobody else sees a mailbox's mail).
import type { Platform } from '../../platform/index.js';
import type { MailboxDirectory } from '../mailboxes/types.js';
import type { TimelineSource } from '../crm/index.js';

export function createMailTimelineSource(platform: Platform, directory: MailboxDirectory): TimelineSource {
  return {
    name: 'mail',
    async list(recordType, recordId, user, opts) {
      if (recordType !== 'contact' && recordType !== 'account') return [];
      const mailboxes = await directory.readableBy(user.id);
      if (mailboxes.length === 0) return [];
      let q = platform.db
        .selectFrom('emails')
        .innerJoin('email_links', 'email_links.email_id', 'emails.id')
        .select(['emails.id', 'emails.date', 'emails.subject', 'emails.direction', 'emails.from_address', 'emails.mailbox_id', 'emails.thread_id', 'emails.snippet'])
        .where('email_links.record_type', '=', recordType)
        .where('email_links.record_id', '=', recordId)
        .where('emails.mailbox_id', 'in', mailboxes)
        .where('emails.is_deleted', '=', 0);
      if (opts.before) q = q.where((eb) => eb(eb.refTuple('emails.date', 'emails.id'), '<', eb.tuple(opts.before!.at, opts.before!.id)));
      const rows = await q.orderBy('emails.date', 'desc').orderBy('emails.id', 'desc').limit(opts.limit).execute();
      return rows.map((r) => ({
        id: r.id,
        at: r.date,
        kind: r.direction === 'out' ? 'email.sent' : 'email.received',
        title: r.subject || '(no subject)',
        data: { emailId: r.id, mailboxId: r.mailbox_id, threadId: r.thread_id, from: r.from_address, snippet: r.snippet },
      }));
    },
  };
}
