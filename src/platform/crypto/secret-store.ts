// Every stored secret (passwords, OAuth tokens, bot tokens, client secrets) lives in one table,
// encrypted with the SecretBox. Module rows never hold secrets themselves, so no API serializer
// can leak one by accident, and key rotation touches a single table.
import type { Kysely, Transaction } from 'kysely';
import { nowIso, sql, startsWith } from '../db/index.js';
import type { SecretBox } from './secret-box.js';
import type { SecretsTables } from './tables.js';

type Exec = Kysely<any> | Transaction<any>;

export interface SecretStore {
  put(ref: string, value: string, trx?: Exec): Promise<void>;
  get(ref: string): Promise<string | null>;
  has(ref: string): Promise<boolean>;
  delete(ref: string, trx?: Exec): Promise<void>;
  /** Deletes every secret whose ref starts with the prefix (e.g. "mailbox:<id>:"). */
  deletePrefix(prefix: string, trx?: Exec): Promise<void>;
  /** Re-encrypts every secret not under the current key. Returns how many were rewritten. */
  rotate(onProgress?: (done: number, total: number) => void): Promise<number>;
  /**
   * Stored secrets whose key is not in the ring, by key id: they cannot be decrypted until that
   * key is supplied (SWITCHBOARD_SECRET_KEY_PREVIOUS), e.g. after a host generated its own key.
   */
  unknownKeys(): Promise<{ keyId: string; count: number }[]>;
}

export function createSecretStore(db: Kysely<SecretsTables>, box: SecretBox): SecretStore {
  const q = (trx?: Exec) => (trx ?? db) as Kysely<SecretsTables>;
  return {
    async put(ref, value, trx) {
      const envelope = box.encrypt(value);
      await q(trx)
        .insertInto('secrets')
        .values({ ref, envelope, updated_at: nowIso() })
        .onConflict((oc) => oc.column('ref').doUpdateSet({ envelope, updated_at: nowIso() }))
        .execute();
    },
    async get(ref) {
      const row = await db.selectFrom('secrets').select('envelope').where('ref', '=', ref).executeTakeFirst();
      return row ? box.decrypt(row.envelope) : null;
    },
    async has(ref) {
      const row = await db.selectFrom('secrets').select('ref').where('ref', '=', ref).executeTakeFirst();
      return !!row;
    },
    async delete(ref, trx) {
      await q(trx).deleteFrom('secrets').where('ref', '=', ref).execute();
    },
    async deletePrefix(prefix, trx) {
      await q(trx).deleteFrom('secrets').where(startsWith('ref', prefix)).execute();
    },
    async rotate(onProgress) {
      const rows = await db.selectFrom('secrets').select(['ref', 'envelope']).execute();
      const stale = rows.filter((r) => box.isStale(r.envelope));
      let done = 0;
      for (const r of stale) {
        const envelope = box.encrypt(box.decrypt(r.envelope));
        await db.updateTable('secrets').set({ envelope, updated_at: nowIso() }).where('ref', '=', r.ref).execute();
        onProgress?.(++done, stale.length);
      }
      return done;
    },
    async unknownKeys() {
      // "sb1.<8-char key id>." — group on the envelope's head so this is one cheap query however
      // many secrets there are.
      const head = sql<string>`substr(envelope, 1, 12)`;
      const rows = await db
        .selectFrom('secrets')
        .select([head.as('head'), (eb) => eb.fn.countAll<number | string>().as('n')])
        .groupBy(head)
        .execute();
      const byKey = new Map<string, number>();
      for (const r of rows) {
        const id = r.head.startsWith('sb1.') ? r.head.slice(4) : `(not an sb1 envelope: ${r.head.slice(0, 4)}…)`;
        if (box.hasKey(id)) continue;
        byKey.set(id, (byKey.get(id) ?? 0) + Number(r.n));
      }
      return [...byKey].map(([keyId, count]) => ({ keyId, count }));
    },
  };
}
