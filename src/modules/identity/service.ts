// Users, nested roles, sessions, API tokens and system-operation grants.
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { DB, Database } from '../../schema.js';
import { fromBool, isUniqueViolation, newId, nowIso, toBool, containsCi } from '../../platform/db/index.js';
import { hashPassword, randomToken, sha256, verifyPassword } from '../../platform/crypto/passwords.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { SYSTEM_OPERATIONS, type AuthContext, type AuthUser, type SystemOperation } from '../../platform/http/auth.js';
import type { UsersTable } from './tables.js';

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
/** Sessions are slid forward at most this often, so reads don't turn into writes on every request. */
const SESSION_TOUCH_MS = 5 * 60 * 1000;
export const ADMINISTRATORS_ROLE = 'Administrators';

export interface UserView {
  id: string;
  email: string;
  name: string;
  language: string;
  isActive: boolean;
  hasPassword: boolean;
  roleIds: string[];
  createdAt: string;
  lastLoginAt: string | null;
}

export interface RoleView {
  id: string;
  name: string;
  description: string | null;
  userIds: string[];
  childRoleIds: string[];
}

export interface IdentityService {
  createUser(input: { email: string; name: string; password?: string; language?: string; roleIds?: string[] }): Promise<UserView>;
  updateUser(id: string, patch: { name?: string; email?: string; language?: string; isActive?: boolean; password?: string; roleIds?: string[] }): Promise<UserView>;
  getUser(id: string): Promise<UserView>;
  listUsers(opts: { q?: string; limit: number; after?: { k: string; id: string } | null; activeOnly?: boolean }): Promise<UserView[]>;
  checkPassword(email: string, password: string): Promise<UsersTable | null>;
  createSession(userId: string, meta: { userAgent?: string; ip?: string }): Promise<{ token: string; csrfToken: string; expiresAt: string }>;
  deleteSession(sessionId: string): Promise<void>;
  resolveSession(token: string): Promise<AuthContext | null>;
  resolveApiToken(token: string): Promise<AuthContext | null>;
  createApiToken(userId: string, name: string, expiresAt?: string | null): Promise<{ id: string; token: string; prefix: string }>;
  listApiTokens(userId: string): Promise<{ id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null; expiresAt: string | null }[]>;
  deleteApiToken(userId: string, id: string): Promise<void>;
  authUser(userId: string): Promise<AuthUser | null>;
  /** Roles the user is a member of: direct roles plus every role containing those, transitively. */
  effectiveRoleIds(userId: string): Promise<string[]>;
  /** Active users who are members of the role, directly or through contained roles. */
  roleMemberIds(roleId: string): Promise<string[]>;
  createRole(input: { name: string; description?: string | null; userIds?: string[]; childRoleIds?: string[] }): Promise<RoleView>;
  updateRole(id: string, patch: { name?: string; description?: string | null; userIds?: string[]; childRoleIds?: string[] }): Promise<RoleView>;
  deleteRole(id: string): Promise<void>;
  getRole(id: string): Promise<RoleView>;
  listRoles(): Promise<RoleView[]>;
  listGrants(): Promise<{ operation: SystemOperation; userIds: string[]; roleIds: string[] }[]>;
  setGrants(operation: SystemOperation, grants: { userIds: string[]; roleIds: string[] }): Promise<void>;
  /** Creates the first administrator (with the Administrators role holding every operation) when no user exists. */
  ensureFirstAdmin(email: string, password: string, name?: string): Promise<UserView | null>;
  createAdmin(email: string, password: string, name?: string): Promise<UserView>;
  userCount(): Promise<number>;
  /**
   * Called after a change that may change who belongs to a role — a user's roles, a user
   * (de)activated, a role's members or contained roles, a role deleted — so modules that resolve
   * roles to people (chat queues) can reconcile. Returns an unsubscribe function.
   */
  onMembershipChanged(listener: () => void): () => void;
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createIdentityService(db: DB): IdentityService {
  const membershipListeners = new Set<() => void>();
  const membershipChanged = () => {
    for (const l of membershipListeners) {
      try {
        l();
      } catch {
        // A listener's own failure is its business; the change itself has been committed.
      }
    }
  };

  // One dummy hash so a login for an unknown email costs as much as a real one (no user enumeration by timing).
  let dummyHash: Promise<string> | null = null;

  async function toView(u: UsersTable): Promise<UserView> {
    const roles = await db.selectFrom('user_roles').select('role_id').where('user_id', '=', u.id).execute();
    return {
      id: u.id,
      email: u.email,
      name: u.name,
      language: u.language,
      isActive: fromBool(u.is_active),
      hasPassword: !!u.password_hash,
      roleIds: roles.map((r) => r.role_id),
      createdAt: u.created_at,
      lastLoginAt: u.last_login_at,
    };
  }

  async function loadUser(id: string): Promise<UsersTable> {
    const u = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!u) throw errors.notFound('User', id);
    return u;
  }

  async function assertRolesExist(trx: Transaction<Database> | DB, roleIds: string[], field: string) {
    if (roleIds.length === 0) return;
    const found = await trx.selectFrom('roles').select('id').where('id', 'in', roleIds).execute();
    const missing = roleIds.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) throw errors.validation([{ field, message: `Unknown role id(s): ${missing.join(', ')}` }]);
  }

  async function assertUsersExist(trx: Transaction<Database> | DB, userIds: string[], field: string) {
    if (userIds.length === 0) return;
    const found = await trx.selectFrom('users').select('id').where('id', 'in', userIds).execute();
    const missing = userIds.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) throw errors.validation([{ field, message: `Unknown user id(s): ${missing.join(', ')}` }]);
  }

  async function roleEdges(): Promise<{ parent_role_id: string; child_role_id: string }[]> {
    return db.selectFrom('role_children').select(['parent_role_id', 'child_role_id']).execute();
  }

  async function effectiveRoleIds(userId: string): Promise<string[]> {
    const direct = await db.selectFrom('user_roles').select('role_id').where('user_id', '=', userId).execute();
    const result = new Set(direct.map((r) => r.role_id));
    if (result.size === 0) return [];
    const edges = await roleEdges();
    const parentsOf = new Map<string, string[]>();
    for (const e of edges) parentsOf.set(e.child_role_id, [...(parentsOf.get(e.child_role_id) ?? []), e.parent_role_id]);
    const queue = [...result];
    while (queue.length) {
      const r = queue.pop()!;
      for (const p of parentsOf.get(r) ?? []) {
        if (!result.has(p)) {
          result.add(p);
          queue.push(p);
        }
      }
    }
    return [...result];
  }

  async function authUser(userId: string): Promise<AuthUser | null> {
    const u = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!u || !fromBool(u.is_active)) return null;
    const roleIds = await effectiveRoleIds(userId);
    let q = db.selectFrom('operation_grants').select('operation').where('user_id', '=', userId);
    if (roleIds.length) q = db.selectFrom('operation_grants').select('operation').where((eb) => eb.or([eb('user_id', '=', userId), eb('role_id', 'in', roleIds)]));
    const grants = await q.execute();
    const ops = new Set(grants.map((g) => g.operation));
    return {
      id: u.id,
      email: u.email,
      name: u.name,
      language: u.language,
      roleIds,
      operations: SYSTEM_OPERATIONS.filter((o) => ops.has(o)),
    };
  }

  async function roleView(id: string): Promise<RoleView> {
    const r = await db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw errors.notFound('Role', id);
    const users = await db.selectFrom('user_roles').select('user_id').where('role_id', '=', id).execute();
    const children = await db.selectFrom('role_children').select('child_role_id').where('parent_role_id', '=', id).execute();
    return { id: r.id, name: r.name, description: r.description, userIds: users.map((u) => u.user_id), childRoleIds: children.map((c) => c.child_role_id) };
  }

  async function assertNoCycle(parentId: string, childIds: string[]) {
    // Adding parent→child must not make parent reachable from child.
    const edges = (await roleEdges()).filter((e) => e.parent_role_id !== parentId);
    const childrenOf = new Map<string, string[]>();
    for (const e of edges) childrenOf.set(e.parent_role_id, [...(childrenOf.get(e.parent_role_id) ?? []), e.child_role_id]);
    for (const c of childIds) childrenOf.set(parentId, [...(childrenOf.get(parentId) ?? []), c]);
    const seen = new Set<string>();
    const stack = [...childIds];
    while (stack.length) {
      const r = stack.pop()!;
      if (r === parentId) throw errors.validation([{ field: 'childRoleIds', message: 'A role cannot contain itself, directly or through other roles.' }]);
      if (seen.has(r)) continue;
      seen.add(r);
      stack.push(...(childrenOf.get(r) ?? []));
    }
  }

  async function setRoleMembers(trx: Transaction<Database>, roleId: string, userIds?: string[], childRoleIds?: string[]) {
    if (userIds) {
      await assertUsersExist(trx, userIds, 'userIds');
      await trx.deleteFrom('user_roles').where('role_id', '=', roleId).execute();
      const unique = [...new Set(userIds)];
      if (unique.length) await trx.insertInto('user_roles').values(unique.map((u) => ({ user_id: u, role_id: roleId }))).execute();
    }
    if (childRoleIds) {
      await assertRolesExist(trx, childRoleIds, 'childRoleIds');
      await trx.deleteFrom('role_children').where('parent_role_id', '=', roleId).execute();
      const unique = [...new Set(childRoleIds)];
      if (unique.length) await trx.insertInto('role_children').values(unique.map((c) => ({ parent_role_id: roleId, child_role_id: c }))).execute();
    }
  }

  const onPostgres = db.getExecutor().adapter instanceof PostgresAdapter;

  /** Active users who hold CanManageAdministration, directly or through a role (roles nest). */
  async function activeAdministratorCount(trx: Transaction<Database>): Promise<number> {
    const grants = await trx.selectFrom('operation_grants').select(['user_id', 'role_id']).where('operation', '=', 'CanManageAdministration').execute();
    const userIds = grants.filter((g) => g.user_id).map((g) => g.user_id!);
    // A grant to a role reaches the members of that role and of every role it contains.
    const roles = new Set(grants.filter((g) => g.role_id).map((g) => g.role_id!));
    if (roles.size) {
      const edges = await trx.selectFrom('role_children').select(['parent_role_id', 'child_role_id']).execute();
      const stack = [...roles];
      while (stack.length) {
        const r = stack.pop()!;
        for (const e of edges) {
          if (e.parent_role_id === r && !roles.has(e.child_role_id)) {
            roles.add(e.child_role_id);
            stack.push(e.child_role_id);
          }
        }
      }
    }
    if (userIds.length === 0 && roles.size === 0) return 0;
    const r = await trx
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('is_active', '=', 1)
      .where((eb) => {
        const ors = [];
        if (userIds.length) ors.push(eb('users.id', 'in', userIds));
        if (roles.size) ors.push(eb('users.id', 'in', eb.selectFrom('user_roles').select('user_id').where('role_id', 'in', [...roles])));
        return eb.or(ors);
      })
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Runs a change to users, roles or grants and refuses it (409, rolled back) when it would leave
   * nobody able to administer the installation. Concurrent changes are serialised (an advisory lock
   * on PostgreSQL; SQLite serialises writers anyway) so two admins cannot demote each other at once.
   * An installation that has no administrator yet (tests, the CLI before `admin create`) is not held to it.
   */
  async function keepingAnAdministrator(change: (trx: Transaction<Database>) => Promise<void>): Promise<void> {
    await db.transaction().execute(async (trx) => {
      if (onPostgres) await sql`select pg_advisory_xact_lock(hashtext('switchboard:administrators'))`.execute(trx);
      const before = await activeAdministratorCount(trx);
      await change(trx);
      if (before > 0 && (await activeAdministratorCount(trx)) === 0) {
        throw errors.conflict(
          'This would leave no active user with CanManageAdministration, and nobody could administer Switchboard any more. Give another active user CanManageAdministration first.',
        );
      }
    });
  }

  const service: IdentityService = {
    async createUser(input) {
      const now = nowIso();
      const id = newId();
      const roleIds = [...new Set(input.roleIds ?? [])];
      // Hash first: scrypt takes tens of ms, too long to hold SQLite's write lock for.
      const passwordHash = input.password ? await hashPassword(input.password) : null;
      try {
        await db.transaction().execute(async (trx) => {
          await assertRolesExist(trx, roleIds, 'roleIds');
          await trx
            .insertInto('users')
            .values({
              id,
              email: normalizeEmail(input.email),
              name: input.name.trim(),
              password_hash: passwordHash,
              language: input.language ?? 'en',
              is_active: 1,
              created_at: now,
              updated_at: now,
              last_login_at: null,
            })
            .execute();
          if (roleIds.length) await trx.insertInto('user_roles').values(roleIds.map((r) => ({ user_id: id, role_id: r }))).execute();
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw errors.conflict('A user with this email already exists.', { field: 'email' });
        throw e;
      }
      if (roleIds.length) membershipChanged();
      return toView(await loadUser(id));
    },

    async updateUser(id, patch) {
      await loadUser(id);
      const passwordHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
      const mayDemote = patch.isActive === false || patch.roleIds !== undefined;
      const run = mayDemote ? keepingAnAdministrator : (fn: (trx: Transaction<Database>) => Promise<void>) => db.transaction().execute(fn);
      try {
        await run(async (trx) => {
          const set: Partial<UsersTable> = { updated_at: nowIso() };
          if (patch.name !== undefined) set.name = patch.name.trim();
          if (patch.email !== undefined) set.email = normalizeEmail(patch.email);
          if (patch.language !== undefined) set.language = patch.language;
          if (patch.isActive !== undefined) set.is_active = toBool(patch.isActive);
          if (passwordHash !== undefined) set.password_hash = passwordHash;
          await trx.updateTable('users').set(set).where('id', '=', id).execute();
          // Deactivating or changing the password ends every session of the user.
          if (patch.isActive === false || patch.password !== undefined) await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
          if (patch.roleIds) {
            await assertRolesExist(trx, patch.roleIds, 'roleIds');
            await trx.deleteFrom('user_roles').where('user_id', '=', id).execute();
            const unique = [...new Set(patch.roleIds)];
            if (unique.length) await trx.insertInto('user_roles').values(unique.map((r) => ({ user_id: id, role_id: r }))).execute();
          }
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw errors.conflict('A user with this email already exists.', { field: 'email' });
        throw e;
      }
      if (patch.roleIds !== undefined || patch.isActive !== undefined) membershipChanged();
      return toView(await loadUser(id));
    },

    async getUser(id) {
      return toView(await loadUser(id));
    },

    async listUsers({ q, limit, after, activeOnly }) {
      let query = db.selectFrom('users').selectAll().orderBy('name').orderBy('id').limit(limit);
      if (activeOnly) query = query.where('is_active', '=', 1);
      if (q) query = query.where((eb) => eb.or([containsCi('name', q), containsCi('email', q)]));
      if (after) query = query.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(after.k, after.id)));
      const rows = await query.execute();
      return Promise.all(rows.map(toView));
    },

    async checkPassword(email, password) {
      const u = await db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
      if (!u || !u.password_hash || !fromBool(u.is_active)) {
        dummyHash ??= hashPassword('not-a-real-password');
        await verifyPassword(password, await dummyHash);
        return null;
      }
      return (await verifyPassword(password, u.password_hash)) ? u : null;
    },

    async createSession(userId, meta) {
      const token = randomToken();
      const csrfToken = randomToken(24);
      const now = new Date();
      const expiresAt = nowIso(new Date(now.getTime() + SESSION_TTL_MS));
      await db
        .insertInto('sessions')
        .values({
          id: sha256(token),
          user_id: userId,
          csrf_token: csrfToken,
          created_at: nowIso(now),
          expires_at: expiresAt,
          last_seen_at: nowIso(now),
          user_agent: meta.userAgent?.slice(0, 500) ?? null,
          ip: meta.ip ?? null,
        })
        .execute();
      await db.updateTable('users').set({ last_login_at: nowIso(now) }).where('id', '=', userId).execute();
      return { token, csrfToken, expiresAt };
    },

    async deleteSession(sessionId) {
      await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
    },

    async resolveSession(token) {
      const id = sha256(token);
      const s = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      if (!s) return null;
      const now = Date.now();
      if (Date.parse(s.expires_at) <= now) {
        await db.deleteFrom('sessions').where('id', '=', id).execute();
        return null;
      }
      const user = await authUser(s.user_id);
      if (!user) return null;
      if (now - Date.parse(s.last_seen_at) > SESSION_TOUCH_MS) {
        await db
          .updateTable('sessions')
          .set({ last_seen_at: nowIso(), expires_at: nowIso(new Date(now + SESSION_TTL_MS)) })
          .where('id', '=', id)
          .execute();
      }
      return { user, via: 'session', sessionId: id, csrfToken: s.csrf_token };
    },

    async resolveApiToken(token) {
      const t = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirst();
      if (!t) return null;
      if (t.expires_at && Date.parse(t.expires_at) <= Date.now()) return null;
      const user = await authUser(t.user_id);
      if (!user) return null;
      if (!t.last_used_at || Date.now() - Date.parse(t.last_used_at) > SESSION_TOUCH_MS) {
        await db.updateTable('api_tokens').set({ last_used_at: nowIso() }).where('id', '=', t.id).execute();
      }
      return { user, via: 'token' };
    },

    async createApiToken(userId, name, expiresAt) {
      const token = `sbt_${randomToken()}`;
      const id = newId();
      const prefix = token.slice(0, 10);
      await db
        .insertInto('api_tokens')
        .values({ id, user_id: userId, name, token_hash: sha256(token), prefix, created_at: nowIso(), last_used_at: null, expires_at: expiresAt ?? null })
        .execute();
      return { id, token, prefix };
    },

    async listApiTokens(userId) {
      const rows = await db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
      return rows.map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, createdAt: t.created_at, lastUsedAt: t.last_used_at, expiresAt: t.expires_at }));
    },

    async deleteApiToken(userId, id) {
      const r = await db.deleteFrom('api_tokens').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw errors.notFound('API token', id);
    },

    authUser,
    effectiveRoleIds,

    async roleMemberIds(roleId) {
      // The role plus every role it contains, transitively; then their direct users.
      const edges = await roleEdges();
      const childrenOf = new Map<string, string[]>();
      for (const e of edges) childrenOf.set(e.parent_role_id, [...(childrenOf.get(e.parent_role_id) ?? []), e.child_role_id]);
      const roles = new Set([roleId]);
      const stack = [roleId];
      while (stack.length) {
        for (const c of childrenOf.get(stack.pop()!) ?? []) {
          if (!roles.has(c)) {
            roles.add(c);
            stack.push(c);
          }
        }
      }
      const rows = await db
        .selectFrom('user_roles')
        .innerJoin('users', 'users.id', 'user_roles.user_id')
        .select('users.id')
        .where('user_roles.role_id', 'in', [...roles])
        .where('users.is_active', '=', 1)
        .execute();
      return [...new Set(rows.map((r) => r.id))];
    },

    async createRole(input) {
      const id = newId();
      const now = nowIso();
      try {
        await db.transaction().execute(async (trx) => {
          // A new role has no parents yet, so its children cannot form a cycle through it.
          await trx.insertInto('roles').values({ id, name: input.name.trim(), description: input.description ?? null, created_at: now, updated_at: now }).execute();
          await setRoleMembers(trx, id, input.userIds, input.childRoleIds);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw errors.conflict('A role with this name already exists.', { field: 'name' });
        throw e;
      }
      return roleView(id);
    },

    async updateRole(id, patch) {
      await roleView(id);
      if (patch.childRoleIds) await assertNoCycle(id, patch.childRoleIds);
      const mayDemote = patch.userIds !== undefined || patch.childRoleIds !== undefined;
      const run = mayDemote ? keepingAnAdministrator : (fn: (trx: Transaction<Database>) => Promise<void>) => db.transaction().execute(fn);
      try {
        await run(async (trx) => {
          const set: Record<string, unknown> = { updated_at: nowIso() };
          if (patch.name !== undefined) set.name = patch.name.trim();
          if (patch.description !== undefined) set.description = patch.description;
          await trx.updateTable('roles').set(set).where('id', '=', id).execute();
          await setRoleMembers(trx, id, patch.userIds, patch.childRoleIds);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw errors.conflict('A role with this name already exists.', { field: 'name' });
        throw e;
      }
      if (mayDemote) membershipChanged();
      return roleView(id);
    },

    async deleteRole(id) {
      const role = await roleView(id);
      // createAdmin (CLI, first start) finds administrators through this role by name.
      if (role.name === ADMINISTRATORS_ROLE) throw errors.conflict(`The ${ADMINISTRATORS_ROLE} role cannot be deleted; remove its members or grants instead.`);
      await keepingAnAdministrator(async (trx) => {
        await trx.deleteFrom('roles').where('id', '=', id).execute();
      });
      membershipChanged();
    },

    onMembershipChanged(listener) {
      membershipListeners.add(listener);
      return () => membershipListeners.delete(listener);
    },

    getRole: roleView,

    async listRoles() {
      const rows = await db.selectFrom('roles').select('id').orderBy('name').execute();
      return Promise.all(rows.map((r) => roleView(r.id)));
    },

    async listGrants() {
      const rows = await db.selectFrom('operation_grants').selectAll().execute();
      return SYSTEM_OPERATIONS.map((op) => ({
        operation: op,
        userIds: rows.filter((r) => r.operation === op && r.user_id).map((r) => r.user_id!),
        roleIds: rows.filter((r) => r.operation === op && r.role_id).map((r) => r.role_id!),
      }));
    },

    async setGrants(operation, grants) {
      const run = operation === 'CanManageAdministration' ? keepingAnAdministrator : (fn: (trx: Transaction<Database>) => Promise<void>) => db.transaction().execute(fn);
      await run(async (trx) => {
        await assertUsersExist(trx, grants.userIds, 'userIds');
        await assertRolesExist(trx, grants.roleIds, 'roleIds');
        await trx.deleteFrom('operation_grants').where('operation', '=', operation).execute();
        const now = nowIso();
        const values = [
          ...[...new Set(grants.userIds)].map((u) => ({ id: newId(), operation, user_id: u, role_id: null, created_at: now })),
          ...[...new Set(grants.roleIds)].map((r) => ({ id: newId(), operation, user_id: null, role_id: r, created_at: now })),
        ];
        if (values.length) await trx.insertInto('operation_grants').values(values).execute();
      });
    },

    async createAdmin(email, password, name) {
      // The Administrators role holds every system operation; the new user joins it. The role and
      // its grants are made in one transaction, so a crash cannot leave a role without them.
      let role = await db.selectFrom('roles').select('id').where('name', '=', ADMINISTRATORS_ROLE).executeTakeFirst();
      if (!role) {
        const id = newId();
        const now = nowIso();
        try {
          await db.transaction().execute(async (trx) => {
            await trx.insertInto('roles').values({ id, name: ADMINISTRATORS_ROLE, description: 'Holds every system operation.', created_at: now, updated_at: now }).execute();
            await trx
              .insertInto('operation_grants')
              .values(SYSTEM_OPERATIONS.map((op) => ({ id: newId(), operation: op, user_id: null, role_id: id, created_at: now })))
              .execute();
          });
          role = { id };
        } catch (e) {
          // Another process made it at the same moment: use theirs.
          if (!isUniqueViolation(e)) throw e;
          role = await db.selectFrom('roles').select('id').where('name', '=', ADMINISTRATORS_ROLE).executeTakeFirstOrThrow();
        }
      }
      return service.createUser({ email, password, name: name ?? email.split('@')[0], roleIds: [role.id] });
    },

    async ensureFirstAdmin(email, password, name) {
      if ((await service.userCount()) > 0) return null;
      try {
        return await service.createAdmin(email, password, name);
      } catch (e) {
        // Several processes starting at once all see no user; the first one's insert wins and the
        // others' duplicate email is not an error.
        if (e instanceof AppError && e.statusCode === 409) return null;
        throw e;
      }
    },

    async userCount() {
      const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
  return service;
}
