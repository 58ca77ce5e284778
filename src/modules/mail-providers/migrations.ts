import type { Kysely, Migration } from 'kysely';
import { randomUUID } from 'node:crypto';

const ts = 'varchar(30)';

// Preconfigured providers (M2) as shipped in 0401. Frozen here on purpose: a migration must do the
// same thing forever, so later corrections go into a new migration, not into this list.
//
// providerSavesSent — whether the provider files a copy of mail submitted over SMTP into Sent by
// itself, so Switchboard must NOT append another copy (B4):
//   - Gmail: smtp.gmail.com files every submitted message in "[Gmail]/Sent Mail" (Google's IMAP docs);
//     an extra APPEND would show the message twice.
//   - Outlook.com / Microsoft 365: Exchange Online saves mail submitted via SMTP AUTH
//     (smtp.office365.com) to "Sent Items" itself.
//   - Yahoo, AOL, Zoho, iCloud, Yandex, Mail.ru: no such guarantee (iCloud and Yandex do it only in
//     some account configurations), so we append; a duplicate is a smaller harm than a missing copy.
// Login formats: all of them accept the full address as the user name (iCloud's IMAP also accepts
// just the name part, but its SMTP needs the full address, so 'email' works for both).
// Microsoft retired Basic auth for IMAP/SMTP for most tenants: an administrator switches this
// provider to OAuth 2.0 (application ID + secret) once the O-series lands.
const SEED = [
  { key: 'gmail', name: 'Gmail', imap: ['imap.gmail.com', 993, 'ssl'], smtp: ['smtp.gmail.com', 465, 'ssl'], savesSent: true,
    domains: ['gmail.com', 'googlemail.com'] },
  { key: 'microsoft365', name: 'Outlook.com / Microsoft 365', imap: ['outlook.office365.com', 993, 'ssl'], smtp: ['smtp.office365.com', 587, 'starttls'], savesSent: true,
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'hotmail.it', 'live.co.uk', 'live.fr', 'outlook.fr', 'outlook.de'] },
  { key: 'yahoo', name: 'Yahoo', imap: ['imap.mail.yahoo.com', 993, 'ssl'], smtp: ['smtp.mail.yahoo.com', 465, 'ssl'], savesSent: false,
    domains: ['yahoo.com', 'ymail.com', 'rocketmail.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.it', 'yahoo.es', 'yahoo.co.jp', 'yahoo.com.br'] },
  { key: 'aol', name: 'AOL', imap: ['imap.aol.com', 993, 'ssl'], smtp: ['smtp.aol.com', 465, 'ssl'], savesSent: false,
    domains: ['aol.com', 'aim.com'] },
  { key: 'zoho', name: 'Zoho Mail', imap: ['imap.zoho.com', 993, 'ssl'], smtp: ['smtp.zoho.com', 465, 'ssl'], savesSent: false,
    domains: ['zoho.com', 'zohomail.com'] },
  { key: 'icloud', name: 'iCloud Mail', imap: ['imap.mail.me.com', 993, 'ssl'], smtp: ['smtp.mail.me.com', 587, 'starttls'], savesSent: false,
    domains: ['icloud.com', 'me.com', 'mac.com'] },
  { key: 'yandex', name: 'Yandex Mail', imap: ['imap.yandex.ru', 993, 'ssl'], smtp: ['smtp.yandex.ru', 465, 'ssl'], savesSent: false,
    domains: ['yandex.ru', 'yandex.com', 'ya.ru', 'yandex.by', 'yandex.kz', 'yandex.ua', 'narod.ru'] },
  { key: 'mailru', name: 'Mail.ru', imap: ['imap.mail.ru', 993, 'ssl'], smtp: ['smtp.mail.ru', 465, 'ssl'], savesSent: false,
    domains: ['mail.ru', 'bk.ru', 'list.ru', 'inbox.ru', 'internet.ru', 'mail.ua'] },
] as const;

export const mailProvidersMigrations: Record<string, Migration> = {
  '0400_mail_providers_base': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mail_providers')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('key', 'varchar(50)', (c) => c.unique())
        .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('type', 'varchar(20)', (c) => c.notNull())
        .addColumn('imap_host', 'varchar(255)')
        .addColumn('imap_port', 'integer')
        .addColumn('imap_security', 'varchar(10)')
        .addColumn('smtp_host', 'varchar(255)')
        .addColumn('smtp_port', 'integer')
        .addColumn('smtp_security', 'varchar(10)')
        .addColumn('service_address', 'varchar(500)')
        .addColumn('load_emails', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('send_emails', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('login_format', 'varchar(20)', (c) => c.notNull())
        .addColumn('auth_method', 'varchar(20)', (c) => c.notNull())
        .addColumn('oauth_client_id', 'varchar(500)')
        .addColumn('provider_saves_sent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('allow_self_signed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mail_provider_domains')
        .addColumn('domain', 'varchar(253)', (c) => c.primaryKey())
        .addColumn('provider_id', 'varchar(36)', (c) => c.notNull().references('mail_providers.id').onDelete('cascade'))
        .addColumn('source', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mail_provider_domains_provider_idx').on('mail_provider_domains').column('provider_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('mail_provider_domains').execute();
      await db.schema.dropTable('mail_providers').execute();
    },
  },
  '0401_mail_providers_seed': {
    async up(db: Kysely<any>) {
      const now = new Date().toISOString();
      for (const p of SEED) {
        // Idempotent even if run against a database that already has the provider (e.g. restored dump).
        const existing = await db.selectFrom('mail_providers').select('id').where('key', '=', p.key).executeTakeFirst();
        const id: string = existing?.id ?? randomUUID();
        if (!existing) {
          await db
            .insertInto('mail_providers')
            .values({
              id,
              key: p.key,
              name: p.name,
              type: 'imap',
              imap_host: p.imap[0],
              imap_port: p.imap[1],
              imap_security: p.imap[2],
              smtp_host: p.smtp[0],
              smtp_port: p.smtp[1],
              smtp_security: p.smtp[2],
              service_address: null,
              load_emails: 1,
              send_emails: 1,
              login_format: 'email',
              auth_method: 'basic',
              oauth_client_id: null,
              provider_saves_sent: p.savesSent ? 1 : 0,
              allow_self_signed: 0,
              created_at: now,
              updated_at: now,
            })
            .execute();
        }
        for (const domain of p.domains) {
          const has = await db.selectFrom('mail_provider_domains').select('domain').where('domain', '=', domain).executeTakeFirst();
          if (!has) await db.insertInto('mail_provider_domains').values({ domain, provider_id: id, source: 'seed', created_at: now }).execute();
        }
      }
    },
    async down(db: Kysely<any>) {
      await db.deleteFrom('mail_provider_domains').where('source', '=', 'seed').execute();
      await db.deleteFrom('mail_providers').where('key', 'is not', null).execute();
    },
  },
};
