// Shared plumbing of the CRM record services: reference checks, tags on records, record events,
// access assertions. Inside a transaction always pass `trx`: on SQLite there is one connection,
// so touching `db` while a transaction holds it would wait forever.
import { sql, type Expression, type SqlBool } from 'kysely';
import type { DB } from '../../schema.js';
import type { Dialect } from '../../platform/db/index.js';
import { newId, nowIso, toJson } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { IdentityService } from '../identity/index.js';
import { accessFilter, RECORD_TABLES, type AccessChecker, type AccessUser, type RecordType } from './access.js';
import type { TagScope } from './schemas.js';

export interface CrmContext {
  db: DB;
  dialect: Dialect;
  access: AccessChecker;
  identity: IdentityService;
}

export interface TagRef {
  id: string;
  name: string;
  scope: TagScope;
  color: string | null;
}

const NOT_FOUND_NAMES: Record<RecordType, string> = {
  contact: 'Contact',
  account: 'Account',
  activity: 'Activity',
  case: 'Case',
  group: 'Group',
};

/** Tags the user may see: everything but other users' personal tags (administrators included). */
export function visibleTagFilter(user: AccessUser, refs = { scope: 'crm_tags.scope', owner: 'crm_tags.owner_id' }): Expression<SqlBool> {
  return sql<SqlBool>`(${sql.ref(refs.scope)} <> 'personal' or ${sql.ref(refs.owner)} = ${user.id})`;
}

/**
 * 404 when the record is missing or invisible to the user (no existence leak); 403 when the user
 * may read but `level` needs more ('edit': edit share or owner; 'owner': owner or administrator).
 */
export async function requireAccess(ctx: CrmContext, user: AccessUser, type: RecordType, id: string, level: 'read' | 'edit' | 'owner' = 'read') {
  const a = await ctx.access.accessOf(user, type, id);
  if (a === 'none') throw errors.notFound(NOT_FOUND_NAMES[type], id);
  if (level === 'edit' && a === 'read') throw errors.forbiddenRecord('You may read this record but not change it.');
  if (level === 'owner' && a !== 'owner') throw errors.forbiddenRecord('Only the owner or an administrator may do this.');
  return a;
}

export function notFound(type: RecordType, id: string) {
  return errors.notFound(NOT_FOUND_NAMES[type], id);
}

/**
 * 400 naming `field` unless every id is a record of `type` the user can see (or, with
 * `existsOnly`, a record that exists: syncs that already applied their own rule, like C2).
 */
export async function assertVisibleRecords(db: DB, user: AccessUser, type: RecordType, ids: string[], field: string, existsOnly = false) {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  const table = RECORD_TABLES[type];
  // Every record table has id and owner_id; the cast only picks one for Kysely's typing.
  let q = db
    .selectFrom(table as 'crm_contacts')
    .select('id')
    .where('id', 'in', unique);
  if (!existsOnly) q = q.where(accessFilter(user, type, { id: `${table}.id`, owner: `${table}.owner_id` }));
  const found = await q.execute();
  const have = new Set(found.map((r) => r.id));
  const missing = unique.filter((id) => !have.has(id));
  if (missing.length) throw errors.validation([{ field, message: `Unknown ${type} id(s): ${missing.join(', ')}` }]);
}

export async function assertUsers(db: DB, ids: string[], field: string) {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  const found = await db.selectFrom('users').select('id').where('id', 'in', unique).execute();
  const have = new Set(found.map((r) => r.id));
  const missing = unique.filter((id) => !have.has(id));
  if (missing.length) throw errors.validation([{ field, message: `Unknown user id(s): ${missing.join(', ')}` }]);
}

/** Tags the user may apply, by id; 400 naming `field` for unknown or invisible ones. */
export async function loadApplicableTags(db: DB, user: AccessUser, tagIds: string[], field = 'tagIds') {
  const unique = [...new Set(tagIds)];
  if (unique.length === 0) return [];
  const rows = await db.selectFrom('crm_tags').selectAll().where('id', 'in', unique).where(visibleTagFilter(user)).execute();
  const have = new Set(rows.map((r) => r.id));
  const missing = unique.filter((id) => !have.has(id));
  if (missing.length) throw errors.validation([{ field, message: `Unknown tag id(s): ${missing.join(', ')}` }]);
  return rows;
}

/** Visible tags of many records in one query: recordId → tags. */
export async function tagsOf(db: DB, user: AccessUser, type: RecordType, recordIds: string[]): Promise<Map<string, TagRef[]>> {
  const out = new Map<string, TagRef[]>();
  if (recordIds.length === 0) return out;
  const rows = await db
    .selectFrom('record_tags')
    .innerJoin('crm_tags', 'crm_tags.id', 'record_tags.tag_id')
    .select(['record_tags.record_id', 'crm_tags.id', 'crm_tags.name', 'crm_tags.scope', 'crm_tags.color'])
    .where('record_tags.record_type', '=', type)
    .where('record_tags.record_id', 'in', recordIds)
    .where(visibleTagFilter(user))
    .orderBy('crm_tags.name')
    .execute();
  for (const r of rows) {
    const list = out.get(r.record_id) ?? [];
    list.push({ id: r.id, name: r.name, scope: r.scope as TagScope, color: r.color });
    out.set(r.record_id, list);
  }
  return out;
}

/**
 * Makes the user's visible tags on the record exactly `tagIds`, leaving tags the user cannot see
 * (other users' personal tags) untouched. Tags must already be checked with loadApplicableTags.
 */
export async function setRecordTags(
  trx: DB,
  user: AccessUser,
  type: RecordType,
  recordId: string,
  tags: { id: string; name: string; scope: string }[],
) {
  const current = await trx
    .selectFrom('record_tags')
    .innerJoin('crm_tags', 'crm_tags.id', 'record_tags.tag_id')
    .select(['crm_tags.id', 'crm_tags.name', 'crm_tags.scope'])
    .where('record_tags.record_type', '=', type)
    .where('record_tags.record_id', '=', recordId)
    .where(visibleTagFilter(user))
    .execute();
  const want = new Map(tags.map((t) => [t.id, t]));
  const have = new Map(current.map((t) => [t.id, t]));
  const added = [...want.values()].filter((t) => !have.has(t.id));
  const removed = [...have.values()].filter((t) => !want.has(t.id));
  const now = nowIso();
  if (added.length) {
    await trx
      .insertInto('record_tags')
      .values(added.map((t) => ({ tag_id: t.id, record_type: type, record_id: recordId, created_by: user.id, created_at: now })))
      .execute();
  }
  if (removed.length) {
    await trx
      .deleteFrom('record_tags')
      .where('record_type', '=', type)
      .where('record_id', '=', recordId)
      .where(
        'tag_id',
        'in',
        removed.map((t) => t.id),
      )
      .execute();
  }
  // Personal tags stay private: they never appear on the shared timeline.
  for (const t of added.filter((t) => t.scope !== 'personal')) {
    await recordEvent(trx, type, recordId, 'tag-added', user.id, { tagId: t.id, name: t.name, scope: t.scope });
  }
  for (const t of removed.filter((t) => t.scope !== 'personal')) {
    await recordEvent(trx, type, recordId, 'tag-removed', user.id, { tagId: t.id, name: t.name, scope: t.scope });
  }
}

/**
 * Timeline entries sort by (created_at, id); timestamps have millisecond resolution, so events
 * written in the same millisecond ("created" then "tag added") need ids that keep their order —
 * which the platform's UUIDv7 ids do.
 */
export const timeOrderedId = newId;

export async function recordEvent(trx: DB, type: RecordType, recordId: string, kind: string, actorId: string | null, data: Record<string, unknown> = {}) {
  await trx
    .insertInto('record_events')
    .values({ id: timeOrderedId(), record_type: type, record_id: recordId, kind, actor_id: actorId, data: toJson(data), created_at: nowIso() })
    .execute();
}

/**
 * Removes what points at a record through the polymorphic tables (no foreign keys there) and
 * leaves a tombstone for delta syncs. Call inside the deleting transaction, before the delete.
 */
export async function deleteRecordLinks(trx: DB, type: RecordType, recordId: string, deletedBy: string | null = null) {
  const table = RECORD_TABLES[type];
  const row = await trx.selectFrom(table as 'crm_contacts').select('owner_id').where('id', '=', recordId).executeTakeFirst();
  await trx
    .insertInto('record_deletions')
    .values({ record_type: type, record_id: recordId, owner_id: row?.owner_id ?? null, deleted_by: deletedBy, deleted_at: nowIso() })
    .onConflict((oc) => oc.columns(['record_type', 'record_id']).doUpdateSet({ deleted_at: nowIso(), deleted_by: deletedBy }))
    .execute();
  await trx.deleteFrom('record_tags').where('record_type', '=', type).where('record_id', '=', recordId).execute();
  await trx.deleteFrom('record_shares').where('record_type', '=', type).where('record_id', '=', recordId).execute();
  await trx.deleteFrom('record_events').where('record_type', '=', type).where('record_id', '=', recordId).execute();
  if (type === 'contact' || type === 'activity') {
    // Members of groups of the record's kind.
    await trx
      .deleteFrom('crm_group_members')
      .where('record_id', '=', recordId)
      .where('group_id', 'in', (eb) => eb.selectFrom('crm_groups').select('id').where('kind', '=', type === 'contact' ? 'contacts' : 'activities'))
      .execute();
  }
}

/** Scalar field changes for the "updated" timeline event; long text fields are named, not copied. */
export function diffFields(before: Record<string, unknown>, after: Record<string, unknown>, longFields: string[] = []) {
  const changes: { field: string; from?: unknown; to?: unknown }[] = [];
  for (const [k, v] of Object.entries(after)) {
    if (v === undefined) continue;
    const old = before[k];
    if (JSON.stringify(old ?? null) === JSON.stringify(v ?? null)) continue;
    changes.push(longFields.includes(k) ? { field: k } : { field: k, from: old ?? null, to: v ?? null });
  }
  return changes;
}

/** Digits of a phone number, for search ("+7 (912) 345" → "7912345"). */
export function phoneDigits(phone: string): string {
  return phone.replace(/\D+/g, '');
}

/** Exactly one primary entry when the list is not empty: the one marked, else the first. */
export function withPrimary<T extends { isPrimary?: boolean }>(list: T[], field: string): (T & { isPrimary: boolean })[] {
  const marked = list.filter((e) => e.isPrimary).length;
  if (marked > 1) throw errors.validation([{ field, message: 'Only one entry may be primary.' }]);
  return list.map((e, i) => ({ ...e, isPrimary: marked ? !!e.isPrimary : i === 0 }));
}

/**
 * WHERE the record in `idColumn` carries the tag — counting the tag only when the user may see it,
 * so filtering by someone else's personal tag id reveals nothing.
 */
export function taggedWith(user: AccessUser, type: RecordType, tagId: string, idColumn: string): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(idColumn)} in (select rt.record_id from record_tags rt inner join crm_tags t on t.id = rt.tag_id where rt.record_type = ${type} and rt.tag_id = ${tagId} and ${visibleTagFilter(user, { scope: 't.scope', owner: 't.owner_id' })})`;
}

/** WHERE the record in `idColumn` is a member of one of the groups the user can see among `groupIds`. */
export function inGroups(user: AccessUser, groupIds: string[], idColumn: string): Expression<SqlBool> {
  if (groupIds.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`${sql.ref(idColumn)} in (select gm.record_id from crm_group_members gm inner join crm_groups g on g.id = gm.group_id where gm.group_id in (${sql.join(groupIds)}) and ${accessFilter(user, 'group', { id: 'g.id', owner: 'g.owner_id' })})`;
}
