// Activities: tasks and meetings with start/end, all-day, organizer, participants (contacts and
// users), "show in calendar" and a status.
import { containsCi, fromBool, newId, nowIso, toBool } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { DB } from '../../schema.js';
import type { CrmActivitiesTable } from './tables.js';
import { accessFilter, type AccessUser } from './access.js';
import {
  assertUsers,
  assertVisibleRecords,
  deleteRecordLinks,
  diffFields,
  loadApplicableTags,
  notFound,
  recordEvent,
  requireAccess,
  taggedWith,
  inGroups,
  setRecordTags,
  tagsOf,
  type CrmContext,
} from './context.js';
import { activityCreate, activityPatch, parseInput, toUtc, type ActivityView } from './schemas.js';

export interface ActivityListQuery {
  q?: string;
  type?: string;
  status?: string;
  from?: string;
  to?: string;
  showInCalendar?: boolean;
  ownerId?: string;
  contactId?: string;
  tagId?: string;
  /** Members of any of these groups (C3/A2 exports by group). */
  groupIds?: string[];
  /** Changed after this instant (delta sync). */
  updatedSince?: string;
  limit: number;
  cursor?: string;
}

const NOBODY: AccessUser = { id: '', roleIds: [], operations: [] };

export function createActivitiesService(ctx: CrmContext) {
  const { db } = ctx;

  async function views(user: AccessUser, rows: CrmActivitiesTable[]): Promise<ActivityView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [parts, tags] = await Promise.all([
      db.selectFrom('activity_participants').selectAll().where('activity_id', 'in', ids).execute(),
      tagsOf(db, user, 'activity', ids),
    ]);
    return rows.map((r) => {
      const mine = parts.filter((p) => p.activity_id === r.id);
      return {
        id: r.id,
        type: r.type as ActivityView['type'],
        title: r.title,
        description: r.description,
        start: r.start_at,
        end: r.end_at,
        allDay: fromBool(r.all_day),
        ownerId: r.owner_id,
        organizerId: r.organizer_id,
        participants: {
          contactIds: mine.filter((p) => p.participant_type === 'contact').map((p) => p.participant_id),
          userIds: mine.filter((p) => p.participant_type === 'user').map((p) => p.participant_id),
        },
        showInCalendar: fromBool(r.show_in_calendar),
        status: r.status as ActivityView['status'],
        tags: tags.get(r.id) ?? [],
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      };
    });
  }

  async function get(id: string, user?: AccessUser): Promise<ActivityView> {
    if (user) await requireAccess(ctx, user, 'activity', id);
    return present(id, user);
  }

  /** The record as `user` sees it, without the access check: right after the user wrote it, even
   * when the write handed it to another owner (the writer must still get the result). */
  async function present(id: string, user?: AccessUser): Promise<ActivityView> {
    const row = await db.selectFrom('crm_activities').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('activity', id);
    return (await views(user?.id ? user : NOBODY, [row]))[0];
  }

  function checkSpan(start: string, end: string) {
    if (Date.parse(end) < Date.parse(start)) throw errors.validation([{ field: 'end', message: 'end must not be before start' }]);
  }

  async function checkParticipants(user: AccessUser, p: { contactIds?: string[]; userIds?: string[] } | undefined) {
    if (!p) return;
    await assertVisibleRecords(db, user, 'contact', p.contactIds ?? [], 'participants.contactIds');
    await assertUsers(db, p.userIds ?? [], 'participants.userIds');
  }

  async function writeParticipants(trx: DB, id: string, p: { contactIds?: string[]; userIds?: string[] }) {
    await trx.deleteFrom('activity_participants').where('activity_id', '=', id).execute();
    const rows = [
      ...[...new Set(p.contactIds ?? [])].map((c) => ({ activity_id: id, participant_type: 'contact', participant_id: c })),
      ...[...new Set(p.userIds ?? [])].map((u) => ({ activity_id: id, participant_type: 'user', participant_id: u })),
    ];
    if (rows.length) await trx.insertInto('activity_participants').values(rows).execute();
  }

  async function create(user: AccessUser, raw: unknown): Promise<ActivityView> {
    const input = parseInput(activityCreate, raw);
    const start = toUtc(input.start);
    const end = toUtc(input.end ?? input.start);
    checkSpan(start, end);
    if (input.ownerId) await assertUsers(db, [input.ownerId], 'ownerId');
    if (input.organizerId) await assertUsers(db, [input.organizerId], 'organizerId');
    await checkParticipants(user, input.participants);
    const tags = await loadApplicableTags(db, user, input.tagIds ?? []);
    const id = newId();
    const now = nowIso();
    const type = input.type ?? 'task';
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('crm_activities')
        .values({
          id,
          type,
          title: input.title,
          description: input.description ?? null,
          start_at: start,
          end_at: end,
          all_day: toBool(input.allDay ?? false),
          owner_id: input.ownerId ?? user.id,
          organizer_id: input.organizerId !== undefined ? input.organizerId : type === 'meeting' ? user.id || null : null,
          show_in_calendar: toBool(input.showInCalendar ?? type === 'meeting'),
          status: input.status ?? 'planned',
          created_by: user.id || null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      if (input.participants) await writeParticipants(trx, id, input.participants);
      await setRecordTags(trx, user, 'activity', id, tags);
      await recordEvent(trx, 'activity', id, 'created', user.id || null, { title: input.title });
    });
    return present(id, user);
  }

  async function update(user: AccessUser, id: string, raw: unknown): Promise<ActivityView> {
    const patch = parseInput(activityPatch, raw);
    await requireAccess(ctx, user, 'activity', id, patch.ownerId !== undefined ? 'owner' : 'edit');
    const before = await db.selectFrom('crm_activities').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const start = patch.start !== undefined ? toUtc(patch.start) : before.start_at;
    const end = patch.end !== undefined ? toUtc(patch.end) : before.end_at;
    checkSpan(start, end);
    if (patch.ownerId) await assertUsers(db, [patch.ownerId], 'ownerId');
    if (patch.organizerId) await assertUsers(db, [patch.organizerId], 'organizerId');
    await checkParticipants(user, patch.participants);
    const tags = patch.tagIds ? await loadApplicableTags(db, user, patch.tagIds) : null;
    await db.transaction().execute(async (trx) => {
      const set: Partial<CrmActivitiesTable> = { updated_at: nowIso(), start_at: start, end_at: end };
      if (patch.type !== undefined) set.type = patch.type;
      if (patch.title !== undefined) set.title = patch.title;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.allDay !== undefined) set.all_day = toBool(patch.allDay);
      if (patch.ownerId !== undefined) set.owner_id = patch.ownerId;
      if (patch.organizerId !== undefined) set.organizer_id = patch.organizerId;
      if (patch.showInCalendar !== undefined) set.show_in_calendar = toBool(patch.showInCalendar);
      if (patch.status !== undefined) set.status = patch.status;
      await trx.updateTable('crm_activities').set(set).where('id', '=', id).execute();
      if (patch.participants) await writeParticipants(trx, id, patch.participants);
      if (tags) await setRecordTags(trx, user, 'activity', id, tags);
      if (patch.status !== undefined && patch.status !== before.status) {
        await recordEvent(trx, 'activity', id, 'status-changed', user.id, { from: before.status, to: patch.status });
      }
      const changes = diffFields(
        { type: before.type, title: before.title, description: before.description, start: before.start_at, end: before.end_at, allDay: fromBool(before.all_day), ownerId: before.owner_id, organizerId: before.organizer_id, showInCalendar: fromBool(before.show_in_calendar) },
        { type: patch.type, title: patch.title, description: patch.description, start: patch.start !== undefined ? start : undefined, end: patch.end !== undefined ? end : undefined, allDay: patch.allDay, ownerId: patch.ownerId, organizerId: patch.organizerId, showInCalendar: patch.showInCalendar },
        ['description'],
      );
      if (patch.participants) changes.push({ field: 'participants' });
      if (changes.length) await recordEvent(trx, 'activity', id, 'updated', user.id, { changes });
    });
    return present(id, user);
  }

  async function remove(user: AccessUser, id: string) {
    await requireAccess(ctx, user, 'activity', id, 'edit');
    await db.transaction().execute(async (trx) => {
      await deleteRecordLinks(trx, 'activity', id, user.id);
      await trx.deleteFrom('crm_activities').where('id', '=', id).execute();
    });
  }

  async function list(user: AccessUser, query: ActivityListQuery): Promise<Page<ActivityView>> {
    const after = decodeCursor(query.cursor);
    let q = db
      .selectFrom('crm_activities')
      .selectAll()
      .where(accessFilter(user, 'activity', { id: 'crm_activities.id', owner: 'crm_activities.owner_id' }))
      .orderBy('start_at')
      .orderBy('id')
      .limit(query.limit + 1);
    if (after) q = q.where((eb) => eb(eb.refTuple('start_at', 'id'), '>', eb.tuple(String(after.k), after.id)));
    // Overlap with [from, to): a calendar view shows meetings that started before but run into it.
    if (query.from) {
      const from = toUtc(query.from);
      // Half-open: a meeting ending exactly at `from` is outside; a zero-length task at `from` is inside.
      q = q.where((eb) => eb.or([eb('end_at', '>', from), eb('start_at', '>=', from)]));
    }
    if (query.to) q = q.where('start_at', '<', toUtc(query.to));
    if (query.type) q = q.where('type', '=', query.type);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.showInCalendar !== undefined) q = q.where('show_in_calendar', '=', toBool(query.showInCalendar));
    if (query.ownerId) q = q.where('owner_id', '=', query.ownerId);
    if (query.contactId) {
      const contactId = query.contactId;
      q = q.where('id', 'in', (eb) =>
        eb.selectFrom('activity_participants').select('activity_id').where('participant_type', '=', 'contact').where('participant_id', '=', contactId),
      );
    }
    if (query.tagId) q = q.where(taggedWith(user, 'activity', query.tagId, 'crm_activities.id'));
    if (query.groupIds) q = q.where(inGroups(user, query.groupIds, 'crm_activities.id'));
    if (query.updatedSince) q = q.where('crm_activities.updated_at', '>', toUtc(query.updatedSince));
    if (query.q) q = q.where(containsCi('crm_activities.title', query.q.trim()));
    const rows = await q.execute();
    const page = toPage(rows, query.limit, (r) => ({ k: r.start_at, id: r.id }));
    return { items: await views(user, page.items), nextCursor: page.nextCursor };
  }

  return { views, get, create, update, remove, list };
}

export type ActivitiesService = ReturnType<typeof createActivitiesService>;
