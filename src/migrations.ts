// The one set of migrations, run at start and by `switchboard migrate`, on SQLite and PostgreSQL.
// Names are "<NNNN>_<area>_<what>": 00xx platform, 01xx identity, 02xx settings, 03xx crm,
// 035x notifications, 040x-041x mail providers, 042x-043x mailboxes, 044x+ mail (sync, messages), 05xx chat. Never edit a migration that has landed; add a new one.
import type { Migration } from 'kysely';
import { secretsMigrations } from './platform/crypto/migrations.js';
import { jobsMigrations } from './platform/jobs/migrations.js';
import { leasesMigrations } from './platform/leases/migrations.js';
import { identityMigrations } from './modules/identity/migrations.js';
import { settingsMigrations } from './modules/settings/migrations.js';
import { crmMigrations } from './modules/crm/migrations.js';
import { notificationsMigrations } from './modules/notifications/migrations.js';
import { mailProvidersMigrations } from './modules/mail-providers/migrations.js';
import { mailboxesMigrations } from './modules/mailboxes/migrations.js';
import { mailMigrations } from './modules/mail/migrations.js';
import { chatMigrations } from './modules/chat/migrations.js';

export const migrations: Record<string, Migration> = {
  ...secretsMigrations,
  ...jobsMigrations,
  ...leasesMigrations,
  ...identityMigrations,
  ...settingsMigrations,
  ...crmMigrations,
  ...notificationsMigrations,
  ...mailProvidersMigrations,
  ...mailboxesMigrations,
  ...mailMigrations,
  ...chatMigrations,
};
