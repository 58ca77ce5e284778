// Record access (P5): a user sees a record if they own it, or it is shared with them or with one
// of their roles (effective roles, nested roles included); administrators see everything.
// `accessFilter` is a SQL predicate so lists filter in the database (no "load then drop" paging
// holes); `canAccess` answers for one record. Other modules (mail, chat, exports) reuse both.
import { sql, type Expression, type SqlBool } from 'kysely';
import type { DB } from '../../schema.js';
import type { SystemOperation } from '../../platform/http/auth.js';

export const RECORD_TYPES = ['contact', 'account', 'activity', 'case', 'group'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export type AccessLevel = 'read' | 'edit';

/** The caller as far as access is concerned (an AuthUser fits). */
export interface AccessUser {
  id: string;
  /** Effective roles (direct and through nested roles). */
  roleIds: string[];
  operations: readonly SystemOperation[] | readonly string[];
}

/** Tables holding each record type, with the columns the access check needs. */
export const RECORD_TABLES = {
  contact: 'crm_contacts',
  account: 'crm_accounts',
  activity: 'crm_activities',
  case: 'crm_cases',
  group: 'crm_groups',
} as const satisfies Record<RecordType, string>;

export function isAdmin(user: AccessUser): boolean {
  return (user.operations as readonly string[]).includes('CanManageAdministration');
}

/**
 * WHERE predicate: the record in `refs.id`/`refs.owner` columns is visible to `user` (at `level`).
 * Use as `.where(accessFilter(user, 'contact', { id: 'crm_contacts.id', owner: 'crm_contacts.owner_id' }))`.
 */
export function accessFilter(
  user: AccessUser,
  recordType: RecordType,
  refs: { id: string; owner: string },
  level: AccessLevel = 'read',
): Expression<SqlBool> {
  if (isAdmin(user)) return sql<SqlBool>`1 = 1`;
  const grantee =
    user.roleIds.length > 0
      ? sql`(rs_access.user_id = ${user.id} or rs_access.role_id in (${sql.join(user.roleIds)}))`
      : sql`rs_access.user_id = ${user.id}`;
  const accessCond = level === 'edit' ? sql` and rs_access.access = 'edit'` : sql``;
  return sql<SqlBool>`(${sql.ref(refs.owner)} = ${user.id} or exists (select 1 from record_shares rs_access where rs_access.record_type = ${recordType} and rs_access.record_id = ${sql.ref(refs.id)} and ${grantee}${accessCond}))`;
}

export interface AccessChecker {
  /** 'none' when the record does not exist or is invisible to the user (callers answer 404). */
  accessOf(user: AccessUser, recordType: RecordType, recordId: string): Promise<'none' | 'read' | 'edit' | 'owner'>;
  canAccess(user: AccessUser, recordType: RecordType, recordId: string, level?: AccessLevel): Promise<boolean>;
}

export function createAccessChecker(db: DB): AccessChecker {
  async function accessOf(user: AccessUser, recordType: RecordType, recordId: string) {
    const table = RECORD_TABLES[recordType];
    const row = await db
      .selectFrom(table as 'crm_contacts') // every record table has id and owner_id
      .select('owner_id')
      .where('id', '=', recordId)
      .executeTakeFirst();
    if (!row) return 'none' as const;
    if (row.owner_id === user.id || isAdmin(user)) return 'owner' as const;
    let q = db
      .selectFrom('record_shares')
      .select('access')
      .where('record_type', '=', recordType)
      .where('record_id', '=', recordId);
    q = user.roleIds.length
      ? q.where((eb) => eb.or([eb('user_id', '=', user.id), eb('role_id', 'in', user.roleIds)]))
      : q.where('user_id', '=', user.id);
    const shares = await q.execute();
    if (shares.some((s) => s.access === 'edit')) return 'edit' as const;
    if (shares.length) return 'read' as const;
    return 'none' as const;
  }
  return {
    accessOf,
    async canAccess(user, recordType, recordId, level = 'read') {
      const a = await accessOf(user, recordType, recordId);
      if (a === 'none') return false;
      return level === 'read' || a !== 'read';
    },
  };
}
