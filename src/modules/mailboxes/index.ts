// Public face of the mailboxes module: a user's mailboxes, their credentials and settings (B1, B2,
// B6), and the MailboxDirectory the mail module reads them through.
import type { Platform } from '../../platform/index.js';
import type { App } from '../../platform/http/app.js';
import type { MailProvidersService } from '../mail-providers/index.js';
import type { NotificationInput } from '../notifications/index.js';
import { createMailboxDirectory } from './directory.js';
import { registerMailboxesRoutes } from './routes.js';
import { createMailboxesService, type MailboxesService } from './service.js';
import type { MailboxDirectory } from './types.js';

export type * from './types.js';
export type { MailboxesService, MailboxView, CreateMailboxInput, MailboxPatch } from './service.js';
export { sanitizeSignature } from './signature.js';
export type { MailboxesTables } from './tables.js';

export interface MailboxesModule {
  directory: MailboxDirectory;
  service: MailboxesService;
  registerRoutes(app: App): void;
}

export function createMailboxesModule(
  platform: Pick<Platform, 'db' | 'secrets' | 'jobs' | 'logger'>,
  deps: { providers: MailProvidersService; notify: (userId: string, input: NotificationInput) => Promise<unknown> },
): MailboxesModule {
  const service = createMailboxesService({ platform, providers: deps.providers, notify: deps.notify });
  const directory = createMailboxDirectory({ platform, providers: deps.providers, notify: deps.notify });
  return { directory, service, registerRoutes: (app) => registerMailboxesRoutes(app, service, deps.providers) };
}
