// Zod schemas of the CRM: inputs (used by the routes for OpenAPI and by the service, which is the
// validation boundary for other modules too) and response views.
import { z } from 'zod';
import { errors } from '../../platform/http/errors.js';

// PostgreSQL text cannot hold NUL; refusing it here turns a would-be 500 into a 400.
const noNul = (s: string) => !s.includes('\u0000');
const NUL_MSG = 'must not contain NUL characters';

export const text = (max: number) => z.string().max(max).refine(noNul, NUL_MSG);
export const requiredText = (max: number) => z.string().trim().min(1).max(max).refine(noNul, NUL_MSG);
export const optText = (max: number) => text(max).nullable().optional();
export const uuid = z.string().uuid();
export const isoDate = z.string().datetime({ offset: true });
const ids = (max: number) => z.array(uuid).max(max);

export const CONTACT_TYPES = ['employee', 'customer', 'other'] as const;
export const ACTIVITY_TYPES = ['task', 'meeting'] as const;
export const ACTIVITY_STATUSES = ['planned', 'in-progress', 'done', 'cancelled'] as const;
export const CASE_STATUSES = ['new', 'in-progress', 'waiting', 'resolved', 'closed'] as const;
export const CASE_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export const TAG_SCOPES = ['personal', 'corporate', 'public'] as const;
export const GROUP_KINDS = ['contacts', 'activities'] as const;
export type TagScope = (typeof TAG_SCOPES)[number];
export type GroupKind = (typeof GROUP_KINDS)[number];

const emailEntry = z.object({
  email: z.string().trim().max(320).email(),
  label: optText(100),
  isPrimary: z.boolean().optional(),
});
const phoneEntry = z.object({
  phone: requiredText(100),
  label: optText(100),
  isPrimary: z.boolean().optional(),
});
export type EmailInput = z.infer<typeof emailEntry>;
export type PhoneInput = z.infer<typeof phoneEntry>;

const contactFields = {
  name: requiredText(200),
  emails: z.array(emailEntry).max(50),
  phones: z.array(phoneEntry).max(50),
  accountId: uuid.nullable(),
  jobTitle: text(200).nullable(),
  type: z.enum(CONTACT_TYPES),
  ownerId: uuid,
  notes: text(20_000).nullable(),
  tagIds: ids(100),
};
export const contactCreate = z.object({
  ...contactFields,
  emails: contactFields.emails.optional(),
  phones: contactFields.phones.optional(),
  accountId: contactFields.accountId.optional(),
  jobTitle: contactFields.jobTitle.optional(),
  type: contactFields.type.optional(),
  ownerId: contactFields.ownerId.optional(),
  notes: contactFields.notes.optional(),
  tagIds: contactFields.tagIds.optional(),
});
export const contactPatch = z.object(contactFields).partial();
export type ContactCreate = z.infer<typeof contactCreate>;
export type ContactPatch = z.infer<typeof contactPatch>;

const accountFields = {
  name: requiredText(200),
  domain: text(253).nullable(),
  website: text(2000).nullable(),
  phones: z.array(phoneEntry).max(50),
  ownerId: uuid,
  notes: text(20_000).nullable(),
  tagIds: ids(100),
};
export const accountCreate = z.object(accountFields).partial().required({ name: true });
export const accountPatch = z.object(accountFields).partial();
export type AccountCreate = z.infer<typeof accountCreate>;
export type AccountPatch = z.infer<typeof accountPatch>;

const participants = z.object({ contactIds: ids(500).optional(), userIds: ids(500).optional() });
const activityFields = {
  type: z.enum(ACTIVITY_TYPES),
  title: requiredText(500),
  description: text(20_000).nullable(),
  start: isoDate,
  end: isoDate,
  allDay: z.boolean(),
  ownerId: uuid,
  organizerId: uuid.nullable(),
  participants,
  showInCalendar: z.boolean(),
  status: z.enum(ACTIVITY_STATUSES),
  tagIds: ids(100),
};
export const activityCreate = z.object(activityFields).partial().required({ title: true, start: true });
export const activityPatch = z.object(activityFields).partial();
export type ActivityCreate = z.infer<typeof activityCreate>;
export type ActivityPatch = z.infer<typeof activityPatch>;

const caseFields = {
  subject: requiredText(500),
  description: text(50_000).nullable(),
  status: z.enum(CASE_STATUSES),
  priority: z.enum(CASE_PRIORITIES),
  contactId: uuid.nullable(),
  accountId: uuid.nullable(),
  ownerId: uuid,
  tagIds: ids(100),
};
export const caseCreate = z.object(caseFields).partial().required({ subject: true });
export const casePatch = z.object(caseFields).partial();
export type CaseCreate = z.infer<typeof caseCreate>;
export type CasePatch = z.infer<typeof casePatch>;

export const tagCreate = z.object({
  name: requiredText(100),
  scope: z.enum(TAG_SCOPES),
  color: text(20).nullable().optional(),
});
export const tagPatch = z.object({ name: requiredText(100), color: text(20).nullable() }).partial();
export type TagCreate = z.infer<typeof tagCreate>;
export type TagPatch = z.infer<typeof tagPatch>;

export const groupCreate = z.object({
  name: requiredText(200),
  kind: z.enum(GROUP_KINDS),
  description: text(5000).nullable().optional(),
  memberIds: ids(1000).optional(),
});
export const groupPatch = z.object({ name: requiredText(200), description: text(5000).nullable(), ownerId: uuid }).partial();
export const groupMembersBody = z.object({ recordIds: ids(1000).min(1) });
export type GroupCreate = z.infer<typeof groupCreate>;
export type GroupPatch = z.infer<typeof groupPatch>;

export const shareEntry = z
  .object({ userId: uuid.optional(), roleId: uuid.optional(), access: z.enum(['read', 'edit']) })
  .refine((s) => (s.userId ? 1 : 0) + (s.roleId ? 1 : 0) === 1, { message: 'give exactly one of userId or roleId' });
export const sharesBody = z.object({ shares: z.array(shareEntry).max(500) });
export type ShareInput = z.infer<typeof shareEntry>;

// ---- views ----
const tagRef = z.object({ id: z.string(), name: z.string(), scope: z.enum(TAG_SCOPES), color: z.string().nullable() });
const emailView = z.object({ email: z.string(), label: z.string().nullable(), isPrimary: z.boolean() });
const phoneView = z.object({ phone: z.string(), label: z.string().nullable(), isPrimary: z.boolean() });

export const contactView = z.object({
  id: z.string(),
  name: z.string(),
  emails: z.array(emailView),
  phones: z.array(phoneView),
  accountId: z.string().nullable(),
  jobTitle: z.string().nullable(),
  type: z.enum(CONTACT_TYPES),
  ownerId: z.string(),
  notes: z.string().nullable(),
  tags: z.array(tagRef),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ContactView = z.infer<typeof contactView>;

export const accountView = z.object({
  id: z.string(),
  name: z.string(),
  domain: z.string().nullable(),
  website: z.string().nullable(),
  phones: z.array(phoneView),
  ownerId: z.string(),
  notes: z.string().nullable(),
  tags: z.array(tagRef),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AccountView = z.infer<typeof accountView>;

export const activityView = z.object({
  id: z.string(),
  type: z.enum(ACTIVITY_TYPES),
  title: z.string(),
  description: z.string().nullable(),
  start: z.string(),
  end: z.string(),
  allDay: z.boolean(),
  ownerId: z.string(),
  organizerId: z.string().nullable(),
  participants: z.object({ contactIds: z.array(z.string()), userIds: z.array(z.string()) }),
  showInCalendar: z.boolean(),
  status: z.enum(ACTIVITY_STATUSES),
  tags: z.array(tagRef),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ActivityView = z.infer<typeof activityView>;

export const caseView = z.object({
  id: z.string(),
  number: z.number(),
  subject: z.string(),
  description: z.string().nullable(),
  status: z.enum(CASE_STATUSES),
  priority: z.enum(CASE_PRIORITIES),
  contactId: z.string().nullable(),
  accountId: z.string().nullable(),
  ownerId: z.string(),
  tags: z.array(tagRef),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().nullable(),
});
export type CaseView = z.infer<typeof caseView>;

export const tagView = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(TAG_SCOPES),
  color: z.string().nullable(),
  ownerId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TagView = z.infer<typeof tagView>;

export const groupView = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(GROUP_KINDS),
  description: z.string().nullable(),
  ownerId: z.string(),
  memberCount: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type GroupView = z.infer<typeof groupView>;

export const shareView = z.object({ userId: z.string().nullable(), roleId: z.string().nullable(), access: z.enum(['read', 'edit']) });
export type ShareView = z.infer<typeof shareView>;

export const timelineEntryView = z.object({
  id: z.string(),
  source: z.string(),
  kind: z.string(),
  at: z.string(),
  title: z.string(),
  actorId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

/** Parse input at the service boundary; zod issues become 400 VALIDATION_FAILED naming each field. */
export function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw errors.validation(r.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'body', message: i.message })));
  }
  return r.data;
}

/** ISO timestamps in any offset → the canonical UTC form stored (so text order is time order). */
export function toUtc(iso: string): string {
  return new Date(iso).toISOString();
}
