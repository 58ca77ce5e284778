// Public face of the notifications module: per-user notifications, stored and pushed live.
import type { Platform } from '../../platform/index.js';
import type { App } from '../../platform/http/app.js';
import { createNotificationsService, type NotificationsService } from './service.js';
import { registerNotificationsRoutes } from './routes.js';

export type { NotificationInput, NotificationLink, NotificationView, NotificationsService } from './service.js';
export type { NotificationsTables } from './tables.js';

export interface NotificationsModule {
  service: NotificationsService;
  notify: NotificationsService['notify'];
  registerRoutes(app: App): void;
}

export function createNotificationsModule(platform: Pick<Platform, 'db' | 'realtime' | 'logger'>): NotificationsModule {
  const service = createNotificationsService({ db: platform.db, realtime: platform.realtime, logger: platform.logger });
  return {
    service,
    notify: (userId, input) => service.notify(userId, input),
    registerRoutes: (app) => registerNotificationsRoutes(app, service),
  };
}
