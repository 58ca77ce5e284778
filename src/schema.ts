// The whole database, composed from each area's tables. Modules type their queries with
// Kysely<Database>; each area owns its tables.ts and migrations.ts.
import type { Kysely } from 'kysely';
import type { SecretsTables } from './platform/crypto/tables.js';
import type { JobsTables } from './platform/jobs/tables.js';
import type { LeasesTables } from './platform/leases/tables.js';
import type { IdentityTables } from './modules/identity/tables.js';
import type { SettingsTables } from './modules/settings/tables.js';
import type { CrmTables } from './modules/crm/tables.js';
import type { NotificationsTables } from './modules/notifications/tables.js';
import type { MailProvidersTables } from './modules/mail-providers/tables.js';
import type { MailboxesTables } from './modules/mailboxes/tables.js';
import type { MailTables } from './modules/mail/tables.js';
import type { ChatTables } from './modules/chat/tables.js';

export interface Database
  extends SecretsTables,
    JobsTables,
    LeasesTables,
    IdentityTables,
    SettingsTables,
    CrmTables,
    NotificationsTables,
    MailProvidersTables,
    MailboxesTables,
    MailTables,
    ChatTables {}

export type DB = Kysely<Database>;
