// Tags and who may do what with them:
//   personal  — any user creates; only its owner sees, applies, renames or deletes it (administrators
//               included: a personal tag is private by definition);
//   public    — any user creates; everyone sees and applies it; its creator or an administrator
//               renames or deletes it;
//   corporate — the organisation's vocabulary: only administrators (CanManageAdministration)
//               create, rename or delete it; everyone sees and applies it.
// Names are unique per scope (personal: per owner), case-insensitively → 409.
import { containsCi, isUniqueViolation, newId, nowIso } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { CrmTagsTable } from './tables.js';
import { isAdmin, type AccessUser } from './access.js';
import { visibleTagFilter, type CrmContext } from './context.js';
import { parseInput, tagCreate, tagPatch, type TagScope, type TagView } from './schemas.js';

export interface TagListQuery {
  q?: string;
  scope?: string;
  limit: number;
  cursor?: string;
}

function view(r: CrmTagsTable): TagView {
  return { id: r.id, name: r.name, scope: r.scope as TagScope, color: r.color, ownerId: r.owner_id, createdAt: r.created_at, updatedAt: r.updated_at };
}

function scopeKey(scope: string, ownerId: string): string {
  return scope === 'personal' ? `personal:${ownerId}` : scope;
}

function canManage(user: AccessUser, tag: { scope: string; owner_id: string }): boolean {
  if (tag.scope === 'personal') return tag.owner_id === user.id;
  if (tag.scope === 'corporate') return isAdmin(user);
  return tag.owner_id === user.id || isAdmin(user);
}

export function createTagsService(ctx: CrmContext) {
  const { db } = ctx;

  async function load(user: AccessUser, id: string): Promise<CrmTagsTable> {
    const row = await db.selectFrom('crm_tags').selectAll().where('id', '=', id).where(visibleTagFilter(user)).executeTakeFirst();
    if (!row) throw errors.notFound('Tag', id);
    return row;
  }

  function conflict(e: unknown): never {
    if (isUniqueViolation(e)) throw errors.conflict('A tag with this name already exists in this scope.', { field: 'name' });
    throw e;
  }

  return {
    async list(user: AccessUser, query: TagListQuery): Promise<Page<TagView>> {
      const after = decodeCursor(query.cursor);
      let q = db.selectFrom('crm_tags').selectAll().where(visibleTagFilter(user)).orderBy('name_lower').orderBy('id').limit(query.limit + 1);
      if (after) q = q.where((eb) => eb(eb.refTuple('name_lower', 'id'), '>', eb.tuple(String(after.k), after.id)));
      if (query.scope) q = q.where('scope', '=', query.scope);
      if (query.q) q = q.where(containsCi('crm_tags.name_lower', query.q.trim()));
      const rows = await q.execute();
      const page = toPage(rows, query.limit, (r) => ({ k: r.name_lower, id: r.id }));
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },

    async get(user: AccessUser, id: string): Promise<TagView> {
      return view(await load(user, id));
    },

    async create(user: AccessUser, raw: unknown): Promise<TagView> {
      const input = parseInput(tagCreate, raw);
      if (input.scope === 'corporate' && !isAdmin(user)) throw errors.forbidden('CanManageAdministration');
      const now = nowIso();
      const row: CrmTagsTable = {
        id: newId(),
        name: input.name,
        name_lower: input.name.toLowerCase(),
        scope: input.scope,
        scope_key: scopeKey(input.scope, user.id),
        owner_id: user.id,
        color: input.color ?? null,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.insertInto('crm_tags').values(row).execute();
      } catch (e) {
        conflict(e);
      }
      return view(row);
    },

    async update(user: AccessUser, id: string, raw: unknown): Promise<TagView> {
      const patch = parseInput(tagPatch, raw);
      const tag = await load(user, id);
      if (!canManage(user, tag)) {
        if (tag.scope === 'corporate') throw errors.forbidden('CanManageAdministration');
        throw errors.forbiddenRecord('Only the tag’s creator or an administrator may change it.');
      }
      const set: Partial<CrmTagsTable> = { updated_at: nowIso() };
      if (patch.name !== undefined) Object.assign(set, { name: patch.name, name_lower: patch.name.toLowerCase() });
      if (patch.color !== undefined) set.color = patch.color;
      try {
        await db.updateTable('crm_tags').set(set).where('id', '=', id).execute();
      } catch (e) {
        conflict(e);
      }
      return view(await load(user, id));
    },

    async remove(user: AccessUser, id: string) {
      const tag = await load(user, id);
      if (!canManage(user, tag)) {
        if (tag.scope === 'corporate') throw errors.forbidden('CanManageAdministration');
        throw errors.forbiddenRecord('Only the tag’s creator or an administrator may delete it.');
      }
      // record_tags rows go with it (ON DELETE CASCADE).
      await db.deleteFrom('crm_tags').where('id', '=', id).execute();
    },
  };
}

export type TagsService = ReturnType<typeof createTagsService>;
