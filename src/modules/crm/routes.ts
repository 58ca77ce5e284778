// CRM routes (P4, P5): contacts, accounts, activities, cases (each with shares and timeline),
// tags, groups and group members. Input is validated twice on purpose: here for OpenAPI and a
// precise 400, and again in the service, which other modules call directly.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { requireUser } from '../../platform/http/auth.js';
import { pageQuery, pageSchema } from '../../platform/http/paging.js';
import type { RecordType } from './access.js';
import type { CrmService } from './service.js';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TYPES,
  CASE_PRIORITIES,
  CASE_STATUSES,
  CONTACT_TYPES,
  GROUP_KINDS,
  TAG_SCOPES,
  accountCreate,
  accountPatch,
  accountView,
  activityCreate,
  activityPatch,
  activityView,
  caseCreate,
  casePatch,
  caseView,
  contactCreate,
  contactPatch,
  contactView,
  groupCreate,
  groupMembersBody,
  groupPatch,
  groupView,
  isoDate,
  shareView,
  sharesBody,
  tagCreate,
  tagPatch,
  tagView,
  text,
  timelineEntryView,
  uuid,
} from './schemas.js';

const idParams = z.object({ id: uuid });
const search = text(200).optional();
const bool = z.enum(['true', 'false']).optional();
const asBool = (v: 'true' | 'false' | undefined) => (v === undefined ? undefined : v === 'true');

interface RecordDef {
  path: string;
  type: RecordType;
  tag: string;
  query: z.ZodObject<any>;
  create: z.ZodTypeAny;
  patch: z.ZodTypeAny;
  view: z.ZodTypeAny;
  list(svc: CrmService, user: ReturnType<typeof requireUser>, query: any): Promise<any>;
  get(svc: CrmService, user: ReturnType<typeof requireUser>, id: string): Promise<unknown>;
  createFn(svc: CrmService, user: ReturnType<typeof requireUser>, body: unknown): Promise<unknown>;
  update(svc: CrmService, user: ReturnType<typeof requireUser>, id: string, body: unknown): Promise<unknown>;
  remove(svc: CrmService, user: ReturnType<typeof requireUser>, id: string): Promise<void>;
}

const RECORDS: RecordDef[] = [
  {
    path: '/api/contacts',
    type: 'contact',
    tag: 'crm-contacts',
    query: z.object({
      q: search,
      email: text(320).optional(),
      accountId: uuid.optional(),
      type: z.enum(CONTACT_TYPES).optional(),
      tagId: uuid.optional(),
      groupId: uuid.optional(),
      ownerId: uuid.optional(),
      updatedSince: isoDate.optional(),
      ...pageQuery,
    }),
    create: contactCreate,
    patch: contactPatch,
    view: contactView,
    list: (s, u, { groupId, ...q }) => s.listContacts(u, { ...q, groupIds: groupId ? [groupId] : undefined }),
    get: (s, u, id) => s.getContact(id, u),
    createFn: (s, u, b) => s.createContact(u, b),
    update: (s, u, id, b) => s.updateContact(u, id, b),
    remove: (s, u, id) => s.deleteContact(u, id),
  },
  {
    path: '/api/accounts',
    type: 'account',
    tag: 'crm-accounts',
    query: z.object({ q: search, domain: text(253).optional(), tagId: uuid.optional(), ownerId: uuid.optional(), ...pageQuery }),
    create: accountCreate,
    patch: accountPatch,
    view: accountView,
    list: (s, u, q) => s.listAccounts(u, q),
    get: (s, u, id) => s.getAccount(id, u),
    createFn: (s, u, b) => s.createAccount(u, b),
    update: (s, u, id, b) => s.updateAccount(u, id, b),
    remove: (s, u, id) => s.deleteAccount(u, id),
  },
  {
    path: '/api/activities',
    type: 'activity',
    tag: 'crm-activities',
    query: z.object({
      q: search,
      type: z.enum(ACTIVITY_TYPES).optional(),
      status: z.enum(ACTIVITY_STATUSES).optional(),
      from: isoDate.optional(),
      to: isoDate.optional(),
      showInCalendar: bool,
      ownerId: uuid.optional(),
      contactId: uuid.optional(),
      tagId: uuid.optional(),
      groupId: uuid.optional(),
      updatedSince: isoDate.optional(),
      ...pageQuery,
    }),
    create: activityCreate,
    patch: activityPatch,
    view: activityView,
    list: (s, u, { groupId, ...q }) => s.listActivities(u, { ...q, showInCalendar: asBool(q.showInCalendar), groupIds: groupId ? [groupId] : undefined }),
    get: (s, u, id) => s.getActivity(id, u),
    createFn: (s, u, b) => s.createActivity(u, b),
    update: (s, u, id, b) => s.updateActivity(u, id, b),
    remove: (s, u, id) => s.deleteActivity(u, id),
  },
  {
    path: '/api/cases',
    type: 'case',
    tag: 'crm-cases',
    query: z.object({
      q: search,
      status: z.enum(CASE_STATUSES).optional(),
      priority: z.enum(CASE_PRIORITIES).optional(),
      contactId: uuid.optional(),
      accountId: uuid.optional(),
      ownerId: uuid.optional(),
      tagId: uuid.optional(),
      ...pageQuery,
    }),
    create: caseCreate,
    patch: casePatch,
    view: caseView,
    list: (s, u, q) => s.listCases(u, q),
    get: (s, u, id) => s.getCase(id, u),
    createFn: (s, u, b) => s.createCase(u, b),
    update: (s, u, id, b) => s.updateCase(u, id, b),
    remove: (s, u, id) => s.deleteCase(u, id),
  },
];

function registerRecordRoutes(app: App, svc: CrmService, d: RecordDef) {
  const tags = [d.tag];
  app.get(d.path, { schema: { tags, querystring: d.query, response: { 200: pageSchema(d.view) } } }, async (request) =>
    d.list(svc, requireUser(request), request.query),
  );
  app.post(d.path, { schema: { tags, body: d.create, response: { 201: d.view } } }, async (request, reply) =>
    reply.status(201).send(await d.createFn(svc, requireUser(request), request.body)),
  );
  app.get(`${d.path}/:id`, { schema: { tags, params: idParams, response: { 200: d.view } } }, async (request) =>
    d.get(svc, requireUser(request), request.params.id),
  );
  app.patch(`${d.path}/:id`, { schema: { tags, params: idParams, body: d.patch, response: { 200: d.view } } }, async (request) =>
    d.update(svc, requireUser(request), request.params.id, request.body),
  );
  app.delete(`${d.path}/:id`, { schema: { tags, params: idParams } }, async (request, reply) => {
    await d.remove(svc, requireUser(request), request.params.id);
    return reply.status(204).send();
  });
  registerSharingAndTimeline(app, svc, d.path, d.type, d.tag);
}

function registerSharingAndTimeline(app: App, svc: CrmService, path: string, type: RecordType, tag: string) {
  const tags = [tag];
  if (type !== 'group') {
    const tagParams = z.object({ id: uuid, tagId: uuid });
    app.put(`${path}/:id/tags/:tagId`, { schema: { tags, params: tagParams } }, async (request, reply) => {
      await svc.tagRecord(requireUser(request), type, request.params.id, request.params.tagId);
      return reply.status(204).send();
    });
    app.delete(`${path}/:id/tags/:tagId`, { schema: { tags, params: tagParams } }, async (request, reply) => {
      await svc.untagRecord(requireUser(request), type, request.params.id, request.params.tagId);
      return reply.status(204).send();
    });
  }
  const sharesResponse = z.object({ shares: z.array(shareView) });
  app.get(`${path}/:id/shares`, { schema: { tags, params: idParams, response: { 200: sharesResponse } } }, async (request) => ({
    shares: await svc.getShares(requireUser(request), type, request.params.id),
  }));
  app.put(`${path}/:id/shares`, { schema: { tags, params: idParams, body: sharesBody, response: { 200: sharesResponse } } }, async (request) => ({
    shares: await svc.setShares(requireUser(request), type, request.params.id, request.body),
  }));
  app.get(
    `${path}/:id/timeline`,
    {
      schema: {
        tags,
        params: idParams,
        querystring: z.object({ limit: pageQuery.limit, cursor: z.string().max(4000).optional() }),
        response: { 200: pageSchema(timelineEntryView) },
      },
    },
    async (request) => svc.timeline(requireUser(request), type, request.params.id, request.query),
  );
}

export function registerCrmRoutes(app: App, svc: CrmService) {
  // Registered before /api/contacts/:id so "export.csv" is never read as an id.
  const contactFilters = RECORDS[0].query.omit({ limit: true, cursor: true });
  app.get(
    '/api/contacts/export.csv',
    { schema: { tags: ['crm-contacts'], querystring: contactFilters, response: { 200: z.string().describe('text/csv') } } },
    async (request, reply) => {
      const { groupId, ...q } = request.query as Record<string, any>;
      const user = requireUser(request);
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', 'attachment; filename="contacts.csv"');
      // A stream is piped as-is (no serializer); the schema above only documents the body for OpenAPI.
      return reply.send(Readable.from(svc.exportContactsCsv(user, { ...q, groupIds: groupId ? [groupId] : undefined })) as unknown as string);
    },
  );
  for (const d of RECORDS) registerRecordRoutes(app, svc, d);

  // Tags.
  const tagTags = ['crm-tags'];
  app.get(
    '/api/tags',
    { schema: { tags: tagTags, querystring: z.object({ q: search, scope: z.enum(TAG_SCOPES).optional(), ...pageQuery }), response: { 200: pageSchema(tagView) } } },
    async (request) => svc.listTags(requireUser(request), request.query),
  );
  app.post('/api/tags', { schema: { tags: tagTags, body: tagCreate, response: { 201: tagView } } }, async (request, reply) =>
    reply.status(201).send(await svc.createTag(requireUser(request), request.body)),
  );
  app.get('/api/tags/:id', { schema: { tags: tagTags, params: idParams, response: { 200: tagView } } }, async (request) =>
    svc.getTag(requireUser(request), request.params.id),
  );
  app.patch('/api/tags/:id', { schema: { tags: tagTags, params: idParams, body: tagPatch, response: { 200: tagView } } }, async (request) =>
    svc.updateTag(requireUser(request), request.params.id, request.body),
  );
  app.delete('/api/tags/:id', { schema: { tags: tagTags, params: idParams } }, async (request, reply) => {
    await svc.deleteTag(requireUser(request), request.params.id);
    return reply.status(204).send();
  });

  // Groups and their members.
  const groupTags = ['crm-groups'];
  app.get(
    '/api/groups',
    { schema: { tags: groupTags, querystring: z.object({ q: search, kind: z.enum(GROUP_KINDS).optional(), ...pageQuery }), response: { 200: pageSchema(groupView) } } },
    async (request) => svc.listGroups(requireUser(request), request.query),
  );
  app.post('/api/groups', { schema: { tags: groupTags, body: groupCreate, response: { 201: groupView } } }, async (request, reply) =>
    reply.status(201).send(await svc.createGroup(requireUser(request), request.body)),
  );
  app.get('/api/groups/:id', { schema: { tags: groupTags, params: idParams, response: { 200: groupView } } }, async (request) =>
    svc.getGroup(requireUser(request), request.params.id),
  );
  app.patch('/api/groups/:id', { schema: { tags: groupTags, params: idParams, body: groupPatch, response: { 200: groupView } } }, async (request) =>
    svc.updateGroup(requireUser(request), request.params.id, request.body),
  );
  app.delete('/api/groups/:id', { schema: { tags: groupTags, params: idParams } }, async (request, reply) => {
    await svc.deleteGroup(requireUser(request), request.params.id);
    return reply.status(204).send();
  });
  app.get(
    '/api/groups/:id/members',
    {
      schema: {
        tags: groupTags,
        params: idParams,
        querystring: z.object(pageQuery),
        response: { 200: z.object({ kind: z.enum(GROUP_KINDS), items: z.array(z.union([contactView, activityView])), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const r = await svc.listGroupMembers(requireUser(request), request.params.id, request.query);
      return { kind: r.kind, ...r.page };
    },
  );
  app.post('/api/groups/:id/members', { schema: { tags: groupTags, params: idParams, body: groupMembersBody, response: { 200: groupView } } }, async (request) =>
    svc.addGroupMembers(requireUser(request), request.params.id, request.body),
  );
  app.delete('/api/groups/:id/members', { schema: { tags: groupTags, params: idParams, body: groupMembersBody, response: { 200: groupView } } }, async (request) =>
    svc.removeGroupMembers(requireUser(request), request.params.id, request.body),
  );
  registerSharingAndTimeline(app, svc, '/api/groups', 'group', 'crm-groups');
}
