// Named leases in the `leases` table. Acquire and renew are ONE conditional upsert, so two
// processes racing for the same name can never both win, on SQLite or PostgreSQL:
//   INSERT ... ON CONFLICT (name) DO UPDATE ... WHERE leases.holder = <me> OR leases.expires_at <= <now>
// RETURNING yields a row only when the insert or the update actually happened.
import type { DB } from '../../schema.js';
import { nowIso, type Dialect } from '../db/index.js';
import type { Leases } from './types.js';

export type { Leases } from './types.js';
export type { LeasesTables, LeasesTable } from './tables.js';
export { leasesMigrations } from './migrations.js';

export function createLeases(db: DB, _dialect: Dialect): Leases & { releaseAll(holder: string): Promise<void> } {
  return {
    async acquire(name, holder, ttlMs) {
      const now = new Date();
      const nowText = nowIso(now);
      const expires = nowIso(new Date(now.getTime() + Math.max(1, ttlMs)));
      const rows = await db
        .insertInto('leases')
        .values({ name, holder, expires_at: expires, acquired_at: nowText })
        .onConflict((oc) =>
          oc.column('name').doUpdateSet((eb) => ({
            holder: eb.ref('excluded.holder'),
            expires_at: eb.ref('excluded.expires_at'),
            // A renewal keeps the original acquisition time; a takeover starts a new one.
            acquired_at: eb
              .case()
              .when('leases.holder', '=', holder)
              .then(eb.ref('leases.acquired_at'))
              .else(eb.ref('excluded.acquired_at'))
              .end(),
          }))
            .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<=', nowText)])),
        )
        .returning('holder')
        .execute();
      return rows.length === 1 && rows[0].holder === holder;
    },

    async release(name, holder) {
      await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
    },

    async holderOf(name) {
      const row = await db
        .selectFrom('leases')
        .select(['holder', 'expires_at'])
        .where('name', '=', name)
        .executeTakeFirst();
      if (!row || row.expires_at <= nowIso()) return null;
      return row.holder;
    },

    async releaseAll(holder) {
      await db.deleteFrom('leases').where('holder', '=', holder).execute();
    },
  };
}
