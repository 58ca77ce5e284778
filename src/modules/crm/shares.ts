// Sharing a record with users or roles (P5). Only the owner or an administrator changes shares;
// anyone who can see the record can see who else can.
import { newId, nowIso } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { AccessUser, RecordType } from './access.js';
import { assertUsers, recordEvent, requireAccess, type CrmContext } from './context.js';
import { parseInput, sharesBody, type ShareView } from './schemas.js';

export function createSharesService(ctx: CrmContext) {
  const { db } = ctx;

  async function read(type: RecordType, id: string): Promise<ShareView[]> {
    const rows = await db
      .selectFrom('record_shares')
      .select(['user_id', 'role_id', 'access'])
      .where('record_type', '=', type)
      .where('record_id', '=', id)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, roleId: r.role_id, access: r.access as ShareView['access'] }));
  }

  return {
    /**
     * Gives one user access to a record on behalf of the system (no owner check): e.g. the operator
     * working a chat must be able to open the customer's contact. Idempotent; never narrows access.
     */
    async grant(type: RecordType, id: string, userId: string, access: 'read' | 'edit'): Promise<void> {
      const existing = await db
        .selectFrom('record_shares')
        .select(['id', 'access'])
        .where('record_type', '=', type)
        .where('record_id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (existing) {
        if (existing.access === 'read' && access === 'edit') await db.updateTable('record_shares').set({ access }).where('id', '=', existing.id).execute();
        return;
      }
      await db.insertInto('record_shares').values({ id: newId(), record_type: type, record_id: id, user_id: userId, role_id: null, access, created_at: nowIso() }).execute();
    },

    async get(user: AccessUser, type: RecordType, id: string): Promise<ShareView[]> {
      await requireAccess(ctx, user, type, id);
      return read(type, id);
    },

    /** Replaces the record's shares with `shares` (the same grantee twice keeps the wider access). */
    async set(user: AccessUser, type: RecordType, id: string, raw: unknown): Promise<ShareView[]> {
      const { shares } = parseInput(sharesBody, raw);
      await requireAccess(ctx, user, type, id, 'owner');
      await assertUsers(db, shares.flatMap((s) => (s.userId ? [s.userId] : [])), 'shares.userId');
      const roleIds = [...new Set(shares.flatMap((s) => (s.roleId ? [s.roleId] : [])))];
      if (roleIds.length) {
        const found = await db.selectFrom('roles').select('id').where('id', 'in', roleIds).execute();
        const missing = roleIds.filter((r) => !found.some((f) => f.id === r));
        if (missing.length) throw errors.validation([{ field: 'shares.roleId', message: `Unknown role id(s): ${missing.join(', ')}` }]);
      }
      const merged = new Map<string, { userId: string | null; roleId: string | null; access: 'read' | 'edit' }>();
      for (const s of shares) {
        const key = s.userId ? `u:${s.userId}` : `r:${s.roleId}`;
        const prev = merged.get(key);
        if (!prev || s.access === 'edit') merged.set(key, { userId: s.userId ?? null, roleId: s.roleId ?? null, access: prev?.access === 'edit' ? 'edit' : s.access });
      }
      const now = nowIso();
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('record_shares').where('record_type', '=', type).where('record_id', '=', id).execute();
        if (merged.size) {
          await trx
            .insertInto('record_shares')
            .values([...merged.values()].map((s) => ({ id: newId(), record_type: type, record_id: id, user_id: s.userId, role_id: s.roleId, access: s.access, created_at: now })))
            .execute();
        }
        await recordEvent(trx, type, id, 'shares-changed', user.id, { count: merged.size });
      });
      return read(type, id);
    },
  };
}

export type SharesService = ReturnType<typeof createSharesService>;
