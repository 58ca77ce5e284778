// Public face of the CRM core (P4, P5): contacts, accounts, activities, cases, tags, groups,
// record sharing and the per-record timeline. Other modules import only from here.
import type { Platform } from '../../platform/index.js';
import type { App } from '../../platform/http/app.js';
import type { IdentityService } from '../identity/index.js';
import { registerCrmRoutes } from './routes.js';
import { createCrmService, type CrmService } from './service.js';

export { createCrmService, type CrmService } from './service.js';
export { accessFilter, createAccessChecker, isAdmin, RECORD_TYPES, type AccessChecker, type AccessUser, type AccessLevel, type RecordType } from './access.js';
export type { TimelineSource, TimelineEntry, TimelinePosition, TimelineItem } from './timeline.js';
export type { EmailMatch, ChannelContactInput, ContactListQuery, WriteOptions } from './contacts.js';
export type { ContactView, AccountView, ActivityView, CaseView, TagView, GroupView, ShareView } from './schemas.js';
export type { CrmTables } from './tables.js';

export interface CrmModule {
  service: CrmService;
  registerRoutes(app: App): void;
}

export function createCrmModule(platform: Platform, deps: { identity: IdentityService }): CrmModule {
  const service = createCrmService({ db: platform.db, dialect: platform.dialect, identity: deps.identity, logger: platform.logger });
  return {
    service,
    registerRoutes: (app) => registerCrmRoutes(app, service),
  };
}

/** Convenience for other modules holding a CrmService: `canAccess(crm, user, 'contact', id)`. */
export function canAccess(crm: CrmService, user: import('./access.js').AccessUser, recordType: import('./access.js').RecordType, recordId: string, level: import('./access.js').AccessLevel = 'read') {
  return crm.canAccess(user, recordType, recordId, level);
}
