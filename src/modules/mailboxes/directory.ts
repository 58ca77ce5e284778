// MailboxDirectory: how the mail module (sync, sending) reads mailboxes and their credentials.
import type { Platform } from '../../platform/index.js';
import { nowIso } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { MailProvidersService } from '../mail-providers/index.js';
import type { NotificationInput } from '../notifications/index.js';
import { passwordRef, recordOf } from './service.js';
import type { MailboxDirectory } from './types.js';

export function createMailboxDirectory(deps: {
  platform: Pick<Platform, 'db' | 'secrets' | 'logger'>;
  providers: MailProvidersService;
  notify: (userId: string, input: NotificationInput) => Promise<unknown>;
}): MailboxDirectory {
  const { db, secrets, logger } = deps.platform;

  return {
    async get(mailboxId) {
      const r = await db.selectFrom('mailboxes').selectAll().where('id', '=', mailboxId).executeTakeFirst();
      return r ? recordOf(r) : null;
    },

    async connection(mailboxId) {
      const r = await db.selectFrom('mailboxes').selectAll().where('id', '=', mailboxId).executeTakeFirst();
      if (!r) throw errors.notFound('Mailbox', mailboxId);
      const cfg = await deps.providers.config(r.provider_id);
      if (cfg.type !== 'imap' || !cfg.imap || !cfg.smtp) {
        throw errors.unprocessable('NOT_SUPPORTED', `The mailbox ${r.email} is on an Exchange provider, which has no IMAP/SMTP connection.`);
      }
      const password = (await secrets.get(passwordRef(r.id))) ?? undefined;
      const auth = { user: r.login, password };
      return {
        mailbox: recordOf(r),
        imap: { ...cfg.imap, auth },
        smtp: { ...cfg.smtp, auth },
        providerSavesSent: cfg.providerSavesSent,
        allowSelfSigned: cfg.allowSelfSigned,
      };
    },

    async listSyncable() {
      const rows = await db
        .selectFrom('mailboxes')
        .selectAll()
        .where('status', '=', 'active')
        .where('auto_load', '=', 1)
        .where('kind', '=', 'imap')
        .orderBy('id')
        .execute();
      return rows.map(recordOf);
    },

    async readableBy(userId) {
      // Own mailboxes, plus removed ones whose mail the user chose to keep (B6).
      const rows = await db
        .selectFrom('mailboxes')
        .select('id')
        .where('user_id', '=', userId)
        .unionAll(db.selectFrom('retired_mailboxes').select('id').where('user_id', '=', userId))
        .execute();
      return rows.map((r) => r.id);
    },

    async sendableBy(userId) {
      const rows = await db
        .selectFrom('mailboxes')
        .select('id')
        .where('user_id', '=', userId)
        .where('send_enabled', '=', 1)
        .where('status', '!=', 'disabled')
        .execute();
      return rows.map((r) => r.id);
    },

    async markNeedsReauth(mailboxId, reason) {
      // Only the first failure notifies: a sync retrying every minute must not flood the user.
      const r = await db
        .updateTable('mailboxes')
        .set({ status: 'needs-reauth', status_reason: reason.slice(0, 2000), updated_at: nowIso() })
        .where('id', '=', mailboxId)
        .where('status', '=', 'active')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows ?? 0) === 0) return;
      const row = await db.selectFrom('mailboxes').select(['user_id', 'email']).where('id', '=', mailboxId).executeTakeFirst();
      if (!row) return;
      try {
        await deps.notify(row.user_id, {
          kind: 'mailbox.needs-reauth',
          title: `Mailbox ${row.email} needs your password again`,
          body: `The mail server refused the stored password (${reason.slice(0, 300)}). Mail is not loaded or sent until you enter it again in the mailbox settings.`,
          links: [{ rel: 'mailbox-settings', label: 'Mailbox settings', href: `/profile/mailboxes/${mailboxId}` }],
        });
      } catch (err) {
        logger.warn({ err, mailboxId }, 'could not notify about a mailbox needing re-authentication');
      }
    },
  };
}
