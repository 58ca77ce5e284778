// The CRM service other modules and the routes use: one object, composed of the record services.
import type { DB } from '../../schema.js';
import type { Dialect } from '../../platform/db/index.js';
import type { Logger } from '../../platform/logger.js';
import { errors } from '../../platform/http/errors.js';
import type { IdentityService } from '../identity/index.js';
import { createAccessChecker, type AccessLevel, type AccessUser, type RecordType } from './access.js';
import type { CrmContext } from './context.js';
import { createContactsService, type ChannelContactInput, type ContactListQuery, type EmailMatch, type WriteOptions } from './contacts.js';
import { createAccountsService, type AccountListQuery } from './accounts.js';
import { createActivitiesService, type ActivityListQuery } from './activities.js';
import { createCasesService, type CaseListQuery } from './cases.js';
import { createTagsService, type TagListQuery } from './tags.js';
import { createGroupsService, type GroupListQuery } from './groups.js';
import { createSharesService } from './shares.js';
import { createRecordTagsService } from './record-tags.js';
import { contactsCsv } from './export.js';
import { createTimelineService, type TimelineItem, type TimelineSource } from './timeline.js';
import type { AccountView, ActivityView, CaseView, ContactView, GroupKind, GroupView, ShareView, TagView } from './schemas.js';
import type { Page } from '../../platform/http/paging.js';

export interface CrmService {
  /** The user as access checks need them (effective roles, operations); 404 for unknown/inactive users. */
  accessUser(userId: string): Promise<AccessUser>;
  canAccess(user: AccessUser, recordType: RecordType, recordId: string, level?: AccessLevel): Promise<boolean>;

  listContacts(user: AccessUser, query: ContactListQuery): Promise<Page<ContactView>>;
  /** With `user`: 404 unless the user may see it. Without: a system read (no personal tags shown). */
  getContact(id: string, user?: AccessUser): Promise<ContactView>;
  /** `actor` is a user id (other modules) or an AccessUser (routes); input is validated here. */
  createContact(actor: string | AccessUser, input: unknown, opts?: WriteOptions): Promise<ContactView>;
  updateContact(user: AccessUser, id: string, patch: unknown, opts?: WriteOptions): Promise<ContactView>;
  deleteContact(user: AccessUser, id: string): Promise<void>;
  /** Every contact holding any of the addresses (case-insensitive), in one indexed query. */
  findContactsByEmails(emails: string[]): Promise<EmailMatch[]>;
  /** Idempotent under concurrent webhook deliveries: one identity → one contact. */
  findOrCreateContactByChannel(input: ChannelContactInput): Promise<{ contact: ContactView; created: boolean }>;

  /** CSV of the contacts the user has access to (P5), streamed page by page. */
  exportContactsCsv(user: AccessUser, filter: Omit<ContactListQuery, 'limit' | 'cursor'>): AsyncGenerator<string>;

  listAccounts(user: AccessUser, query: AccountListQuery): Promise<Page<AccountView>>;
  getAccount(id: string, user?: AccessUser): Promise<AccountView>;
  /** The account with this name (case-insensitive) when exactly one has it; null when none or ambiguous. */
  getAccountByName(name: string): Promise<AccountView | null>;
  findAccountsByName(name: string): Promise<AccountView[]>;
  /** C2 account linking for an imported contact's company name, as seen by the importing user. */
  accountForCompany(user: AccessUser, company: string): Promise<string | null>;
  createAccount(actor: string | AccessUser, input: unknown): Promise<AccountView>;
  updateAccount(user: AccessUser, id: string, patch: unknown): Promise<AccountView>;
  deleteAccount(user: AccessUser, id: string): Promise<void>;

  listActivities(user: AccessUser, query: ActivityListQuery): Promise<Page<ActivityView>>;
  getActivity(id: string, user?: AccessUser): Promise<ActivityView>;
  createActivity(actor: string | AccessUser, input: unknown): Promise<ActivityView>;
  updateActivity(user: AccessUser, id: string, patch: unknown): Promise<ActivityView>;
  deleteActivity(user: AccessUser, id: string): Promise<void>;

  listCases(user: AccessUser, query: CaseListQuery): Promise<Page<CaseView>>;
  getCase(id: string, user?: AccessUser): Promise<CaseView>;
  createCase(actor: string | AccessUser, input: unknown): Promise<CaseView>;
  updateCase(user: AccessUser, id: string, patch: unknown): Promise<CaseView>;
  deleteCase(user: AccessUser, id: string): Promise<void>;

  listTags(user: AccessUser, query: TagListQuery): Promise<Page<TagView>>;
  getTag(user: AccessUser, id: string): Promise<TagView>;
  createTag(user: AccessUser, input: unknown): Promise<TagView>;
  updateTag(user: AccessUser, id: string, patch: unknown): Promise<TagView>;
  deleteTag(user: AccessUser, id: string): Promise<void>;

  listGroups(user: AccessUser, query: GroupListQuery): Promise<Page<GroupView>>;
  getGroup(user: AccessUser, id: string): Promise<GroupView>;
  createGroup(user: AccessUser, input: unknown): Promise<GroupView>;
  updateGroup(user: AccessUser, id: string, patch: unknown): Promise<GroupView>;
  deleteGroup(user: AccessUser, id: string): Promise<void>;
  listGroupMembers(user: AccessUser, id: string, page: { limit: number; cursor?: string }): Promise<{ kind: GroupKind; page: Page<ContactView | ActivityView> }>;
  addGroupMembers(user: AccessUser, id: string, body: unknown): Promise<GroupView>;
  removeGroupMembers(user: AccessUser, id: string, body: unknown): Promise<GroupView>;

  /** One tag on/off a record (idempotent); 404 for tags the user cannot see. */
  tagRecord(user: AccessUser, type: RecordType, id: string, tagId: string): Promise<void>;
  untagRecord(user: AccessUser, type: RecordType, id: string, tagId: string): Promise<void>;
  /** Tombstones for delta syncs: records of `type` deleted after `since`, oldest first. */
  listDeletedSince(type: RecordType, since: string, limit?: number): Promise<{ id: string; ownerId: string | null; deletedAt: string }[]>;

  getShares(user: AccessUser, type: RecordType, id: string): Promise<ShareView[]>;
  setShares(user: AccessUser, type: RecordType, id: string, body: unknown): Promise<ShareView[]>;
  /** System grant (no owner check) for other modules, e.g. chat → the operator working it. */
  grantAccess(type: RecordType, id: string, userId: string, access: 'read' | 'edit'): Promise<void>;

  /** Other modules add timeline entries (emails, chats) without the CRM knowing them. */
  registerTimelineSource(source: TimelineSource): void;
  timeline(user: AccessUser, type: RecordType, id: string, opts: { limit: number; cursor?: string }): Promise<{ items: TimelineItem[]; nextCursor: string | null }>;
}

export function createCrmService(deps: { db: DB; dialect: Dialect; identity: IdentityService; logger?: Logger }): CrmService {
  const ctx: CrmContext = { db: deps.db, dialect: deps.dialect, identity: deps.identity, access: createAccessChecker(deps.db) };
  const contacts = createContactsService(ctx);
  const accounts = createAccountsService(ctx);
  const activities = createActivitiesService(ctx);
  const cases = createCasesService(ctx);
  const tags = createTagsService(ctx);
  const groups = createGroupsService(ctx, { contacts, activities });
  const shares = createSharesService(ctx);
  const recordTags = createRecordTagsService(ctx);
  const timeline = createTimelineService(ctx, deps.logger);

  async function accessUser(userId: string): Promise<AccessUser> {
    const u = await deps.identity.authUser(userId);
    if (!u) throw errors.notFound('User', userId);
    return u;
  }
  const actorOf = (actor: string | AccessUser) => (typeof actor === 'string' ? accessUser(actor) : Promise.resolve(actor));

  return {
    accessUser,
    canAccess: (user, type, id, level) => ctx.access.canAccess(user, type, id, level),

    listContacts: contacts.list,
    getContact: contacts.get,
    createContact: async (actor, input, opts) => contacts.create(await actorOf(actor), input, opts),
    updateContact: (user, id, patch, opts) => contacts.update(user, id, patch, opts),
    deleteContact: contacts.remove,
    findContactsByEmails: contacts.findContactsByEmails,
    findOrCreateContactByChannel: contacts.findOrCreateByChannel,

    exportContactsCsv: (user, filter) => contactsCsv(contacts, user, filter),

    listAccounts: accounts.list,
    getAccount: accounts.get,
    getAccountByName: accounts.getAccountByName,
    findAccountsByName: accounts.findAccountsByName,
    accountForCompany: accounts.accountForCompany,
    createAccount: async (actor, input) => accounts.create(await actorOf(actor), input),
    updateAccount: accounts.update,
    deleteAccount: accounts.remove,

    listActivities: activities.list,
    getActivity: activities.get,
    createActivity: async (actor, input) => activities.create(await actorOf(actor), input),
    updateActivity: activities.update,
    deleteActivity: activities.remove,

    listCases: cases.list,
    getCase: cases.get,
    createCase: async (actor, input) => cases.create(await actorOf(actor), input),
    updateCase: cases.update,
    deleteCase: cases.remove,

    listTags: tags.list,
    getTag: tags.get,
    createTag: tags.create,
    updateTag: tags.update,
    deleteTag: tags.remove,

    listGroups: groups.list,
    getGroup: groups.get,
    createGroup: groups.create,
    updateGroup: groups.update,
    deleteGroup: groups.remove,
    listGroupMembers: groups.members,
    addGroupMembers: groups.addMembers,
    removeGroupMembers: groups.removeMembers,

    tagRecord: recordTags.tagRecord,
    untagRecord: recordTags.untagRecord,
    listDeletedSince: recordTags.listDeletedSince,

    getShares: shares.get,
    setShares: shares.set,
    grantAccess: shares.grant,

    registerTimelineSource: timeline.registerTimelineSource,
    timeline: timeline.list,
  };
}
