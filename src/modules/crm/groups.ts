// Static groups of contacts or of activities. A group is a record like the others (owner, shares),
// so who sees it follows P5; its members are listed only as far as the caller can see them.
import { containsCi, isUniqueViolation, newId, nowIso } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { DB } from '../../schema.js';
import type { CrmGroupsTable } from './tables.js';
import { accessFilter, type AccessUser } from './access.js';
import { assertUsers, assertVisibleRecords, deleteRecordLinks, notFound, requireAccess, type CrmContext } from './context.js';
import { groupCreate, groupMembersBody, groupPatch, parseInput, type ActivityView, type ContactView, type GroupKind, type GroupView } from './schemas.js';
import type { ContactsService } from './contacts.js';
import type { ActivitiesService } from './activities.js';

export interface GroupListQuery {
  q?: string;
  kind?: string;
  limit: number;
  cursor?: string;
}

const MEMBER_TYPE = { contacts: 'contact', activities: 'activity' } as const;
const MEMBER_TABLE = { contacts: 'crm_contacts', activities: 'crm_activities' } as const;

export function createGroupsService(ctx: CrmContext, deps: { contacts: ContactsService; activities: ActivitiesService }) {
  const { db } = ctx;

  async function views(rows: CrmGroupsTable[]): Promise<GroupView[]> {
    if (rows.length === 0) return [];
    const counts = await db
      .selectFrom('crm_group_members')
      .select(['group_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where(
        'group_id',
        'in',
        rows.map((r) => r.id),
      )
      .groupBy('group_id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind as GroupKind,
      description: r.description,
      ownerId: r.owner_id,
      memberCount: Number(counts.find((c) => c.group_id === r.id)?.n ?? 0),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async function load(id: string): Promise<CrmGroupsTable> {
    const row = await db.selectFrom('crm_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('group', id);
    return row;
  }

  async function get(user: AccessUser, id: string): Promise<GroupView> {
    await requireAccess(ctx, user, 'group', id);
    return (await views([await load(id)]))[0];
  }

  function conflict(e: unknown): never {
    if (isUniqueViolation(e)) throw errors.conflict('You already have a group of this kind with this name.', { field: 'name' });
    throw e;
  }

  async function insertMembers(trx: DB, groupId: string, ids: string[]) {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return;
    const now = nowIso();
    await trx
      .insertInto('crm_group_members')
      .values(unique.map((r) => ({ group_id: groupId, record_id: r, added_at: now })))
      .onConflict((oc) => oc.columns(['group_id', 'record_id']).doNothing())
      .execute();
  }

  return {
    views,
    get,

    async list(user: AccessUser, query: GroupListQuery): Promise<Page<GroupView>> {
      const after = decodeCursor(query.cursor);
      let q = db
        .selectFrom('crm_groups')
        .selectAll()
        .where(accessFilter(user, 'group', { id: 'crm_groups.id', owner: 'crm_groups.owner_id' }))
        .orderBy('name_lower')
        .orderBy('id')
        .limit(query.limit + 1);
      if (after) q = q.where((eb) => eb(eb.refTuple('name_lower', 'id'), '>', eb.tuple(String(after.k), after.id)));
      if (query.kind) q = q.where('kind', '=', query.kind);
      if (query.q) q = q.where(containsCi('crm_groups.name_lower', query.q.trim()));
      const rows = await q.execute();
      const page = toPage(rows, query.limit, (r) => ({ k: r.name_lower, id: r.id }));
      return { items: await views(page.items), nextCursor: page.nextCursor };
    },

    async create(user: AccessUser, raw: unknown): Promise<GroupView> {
      const input = parseInput(groupCreate, raw);
      await assertVisibleRecords(db, user, MEMBER_TYPE[input.kind], input.memberIds ?? [], 'memberIds');
      const now = nowIso();
      const id = newId();
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('crm_groups')
            .values({ id, name: input.name, name_lower: input.name.toLowerCase(), kind: input.kind, description: input.description ?? null, owner_id: user.id, created_at: now, updated_at: now })
            .execute();
          await insertMembers(trx, id, input.memberIds ?? []);
        });
      } catch (e) {
        conflict(e);
      }
      return get(user, id);
    },

    async update(user: AccessUser, id: string, raw: unknown): Promise<GroupView> {
      const patch = parseInput(groupPatch, raw);
      await requireAccess(ctx, user, 'group', id, patch.ownerId !== undefined ? 'owner' : 'edit');
      if (patch.ownerId) await assertUsers(db, [patch.ownerId], 'ownerId');
      const set: Partial<CrmGroupsTable> = { updated_at: nowIso() };
      if (patch.name !== undefined) Object.assign(set, { name: patch.name, name_lower: patch.name.toLowerCase() });
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.ownerId !== undefined) set.owner_id = patch.ownerId;
      try {
        await db.updateTable('crm_groups').set(set).where('id', '=', id).execute();
      } catch (e) {
        conflict(e);
      }
      return (await views([await load(id)]))[0];
    },

    async remove(user: AccessUser, id: string) {
      await requireAccess(ctx, user, 'group', id, 'edit');
      await db.transaction().execute(async (trx) => {
        await deleteRecordLinks(trx, 'group', id, user.id);
        await trx.deleteFrom('crm_groups').where('id', '=', id).execute();
      });
    },

    /** Members the caller can see, as full records, ordered by record id (keyset). */
    async members(user: AccessUser, id: string, page: { limit: number; cursor?: string }): Promise<{ kind: GroupKind; page: Page<ContactView | ActivityView> }> {
      await requireAccess(ctx, user, 'group', id);
      const group = await load(id);
      const kind = group.kind as GroupKind;
      const table = MEMBER_TABLE[kind];
      const after = decodeCursor(page.cursor);
      let q = db
        .selectFrom('crm_group_members')
        .innerJoin(table as 'crm_contacts', `${table}.id` as 'crm_contacts.id', 'crm_group_members.record_id')
        .select('crm_group_members.record_id')
        .where('crm_group_members.group_id', '=', id)
        .where(accessFilter(user, MEMBER_TYPE[kind], { id: `${table}.id`, owner: `${table}.owner_id` }))
        .orderBy('crm_group_members.record_id')
        .limit(page.limit + 1);
      if (after) q = q.where('crm_group_members.record_id', '>', after.id);
      const rows = await q.execute();
      const p = toPage(rows, page.limit, (r) => ({ k: null, id: r.record_id }));
      const ids = p.items.map((r) => r.record_id);
      let items: (ContactView | ActivityView)[] = [];
      if (ids.length) {
        if (kind === 'contacts') {
          const recs = await db.selectFrom('crm_contacts').selectAll().where('id', 'in', ids).orderBy('id').execute();
          items = await deps.contacts.views(user, recs);
        } else {
          const recs = await db.selectFrom('crm_activities').selectAll().where('id', 'in', ids).orderBy('id').execute();
          items = await deps.activities.views(user, recs);
        }
      }
      return { kind, page: { items, nextCursor: p.nextCursor } };
    },

    async addMembers(user: AccessUser, id: string, raw: unknown): Promise<GroupView> {
      const { recordIds } = parseInput(groupMembersBody, raw);
      await requireAccess(ctx, user, 'group', id, 'edit');
      const group = await load(id);
      await assertVisibleRecords(db, user, MEMBER_TYPE[group.kind as GroupKind], recordIds, 'recordIds');
      await db.transaction().execute(async (trx) => {
        await insertMembers(trx, id, recordIds);
        await trx.updateTable('crm_groups').set({ updated_at: nowIso() }).where('id', '=', id).execute();
      });
      return (await views([await load(id)]))[0];
    },

    async removeMembers(user: AccessUser, id: string, raw: unknown): Promise<GroupView> {
      const { recordIds } = parseInput(groupMembersBody, raw);
      await requireAccess(ctx, user, 'group', id, 'edit');
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('crm_group_members').where('group_id', '=', id).where('record_id', 'in', recordIds).execute();
        await trx.updateTable('crm_groups').set({ updated_at: nowIso() }).where('id', '=', id).execute();
      });
      return (await views([await load(id)]))[0];
    },
  };
}

export type GroupsService = ReturnType<typeof createGroupsService>;
