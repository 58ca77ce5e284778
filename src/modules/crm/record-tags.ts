// Putting one tag on a record and taking it off (the tagIds field of PATCH replaces the whole
// visible set; sync modules and the console need the single-tag form: C4/C5 move contacts in and
// out of a user's personal sync tag one at a time). Also: tombstones for delta syncs.
import { nowIso } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { AccessUser, RecordType } from './access.js';
import { recordEvent, requireAccess, visibleTagFilter, type CrmContext } from './context.js';
import { toUtc } from './schemas.js';

export function createRecordTagsService(ctx: CrmContext) {
  const { db } = ctx;

  /** A visible tag, or 404; personal tags need only read access to the record (they are the user's own notes). */
  async function prepare(user: AccessUser, type: RecordType, id: string, tagId: string) {
    await requireAccess(ctx, user, type, id);
    const tag = await db.selectFrom('crm_tags').selectAll().where('id', '=', tagId).where(visibleTagFilter(user)).executeTakeFirst();
    if (!tag) throw errors.notFound('Tag', tagId);
    if (tag.scope !== 'personal') await requireAccess(ctx, user, type, id, 'edit');
    return tag;
  }

  return {
    /** Idempotent: tagging twice leaves one link and one timeline entry. */
    async tagRecord(user: AccessUser, type: RecordType, id: string, tagId: string): Promise<void> {
      const tag = await prepare(user, type, id, tagId);
      await db.transaction().execute(async (trx) => {
        const r = await trx
          .insertInto('record_tags')
          .values({ tag_id: tag.id, record_type: type, record_id: id, created_by: user.id, created_at: nowIso() })
          .onConflict((oc) => oc.columns(['tag_id', 'record_type', 'record_id']).doNothing())
          .executeTakeFirst();
        const inserted = Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
        if (inserted && tag.scope !== 'personal') await recordEvent(trx, type, id, 'tag-added', user.id, { tagId: tag.id, name: tag.name, scope: tag.scope });
      });
    },

    async untagRecord(user: AccessUser, type: RecordType, id: string, tagId: string): Promise<void> {
      const tag = await prepare(user, type, id, tagId);
      await db.transaction().execute(async (trx) => {
        const r = await trx.deleteFrom('record_tags').where('tag_id', '=', tag.id).where('record_type', '=', type).where('record_id', '=', id).executeTakeFirst();
        if (Number(r.numDeletedRows) > 0 && tag.scope !== 'personal') await recordEvent(trx, type, id, 'tag-removed', user.id, { tagId: tag.id, name: tag.name, scope: tag.scope });
      });
    },

    /** Records of `type` deleted after `since` (exclusive), oldest first: delta syncs replay them. */
    async listDeletedSince(type: RecordType, since: string, limit = 1000): Promise<{ id: string; ownerId: string | null; deletedAt: string }[]> {
      const rows = await db
        .selectFrom('record_deletions')
        .select(['record_id', 'owner_id', 'deleted_at'])
        .where('record_type', '=', type)
        .where('deleted_at', '>', toUtc(since))
        .orderBy('deleted_at')
        .orderBy('record_id')
        .limit(Math.min(Math.max(limit, 1), 10_000))
        .execute();
      return rows.map((r) => ({ id: r.record_id, ownerId: r.owner_id, deletedAt: r.deleted_at }));
    },
  };
}
