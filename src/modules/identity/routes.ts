import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import type { Logger } from '../../platform/logger.js';
import { SESSION_COOKIE, SYSTEM_OPERATIONS, requireOperation, requireUser } from '../../platform/http/auth.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, pageQuery, pageSchema, toPage } from '../../platform/http/paging.js';
import { createAttemptLimiter } from '../../platform/http/rate-limit.js';
import { SESSION_TTL_MS, type IdentityService } from './service.js';

const email = z.string().trim().toLowerCase().email().max(320);
const password = z.string().min(8, 'at least 8 characters').max(200);
const name = z.string().trim().min(1).max(200);
const language = z.enum(['en', 'ru']);
const id = z.string().uuid();

const userView = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  language: z.string(),
  isActive: z.boolean(),
  hasPassword: z.boolean(),
  roleIds: z.array(z.string()),
  createdAt: z.string(),
  lastLoginAt: z.string().nullable(),
});
const roleView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  userIds: z.array(z.string()),
  childRoleIds: z.array(z.string()),
});
const me = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  language: z.string(),
  roleIds: z.array(z.string()),
  roles: z.array(z.object({ id: z.string(), name: z.string() })),
  operations: z.array(z.enum(SYSTEM_OPERATIONS)),
  csrfToken: z.string().nullable(),
});

/**
 * Login attempts per minute: per client address (roomy, for offices behind one NAT) and per
 * address + account (tight, against guessing one account's password).
 */
export const LOGIN_LIMITS = { perIp: 30, perIpAndEmail: 10, windowMs: 60_000 };

export function registerIdentityRoutes(
  app: App,
  identity: IdentityService,
  opts: { secureCookies: boolean; limits?: { redisUrl?: string; prefix?: string; logger?: Logger } },
) {
  const admin = requireOperation('CanManageAdministration');
  // Shared through Redis when there is one: N api processes must not mean N times the attempts.
  const perIp = createAttemptLimiter({ name: 'login-ip', max: LOGIN_LIMITS.perIp, windowMs: LOGIN_LIMITS.windowMs, ...opts.limits });
  const perIpAndEmail = createAttemptLimiter({ name: 'login-ip-email', max: LOGIN_LIMITS.perIpAndEmail, windowMs: LOGIN_LIMITS.windowMs, ...opts.limits });
  app.addHook('onClose', async () => {
    await Promise.all([perIp.close(), perIpAndEmail.close()]);
  });
  const tooMany = (retryAfter: number) => errors.tooMany('Too many sign-in attempts; wait a minute and try again.', retryAfter);

  async function meOf(userId: string, csrfToken: string | null) {
    const u = await identity.authUser(userId);
    if (!u) throw errors.unauthorized();
    const roles = await identity.listRoles();
    return { ...u, roles: roles.filter((r) => u.roleIds.includes(r.id)).map((r) => ({ id: r.id, name: r.name })), csrfToken };
  }

  app.post(
    '/api/auth/login',
    {
      config: { public: true, skipCsrf: true },
      // request.ip is the TCP peer unless SWITCHBOARD_TRUST_PROXY says a proxy may name the client.
      onRequest: async (request) => {
        const wait = await perIp.hit(request.ip);
        if (wait) throw tooMany(wait);
      },
      preHandler: async (request) => {
        const wait = await perIpAndEmail.hit(`${request.ip}\n${request.body.email.trim().toLowerCase()}`);
        if (wait) throw tooMany(wait);
      },
      schema: { tags: ['auth'], body: z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(200) }), response: { 200: me } },
    },
    async (request, reply) => {
      const user = await identity.checkPassword(request.body.email, request.body.password);
      if (!user) throw errors.unauthorized('Wrong email or password.');
      const s = await identity.createSession(user.id, { userAgent: request.headers['user-agent'], ip: request.ip });
      reply.setCookie(SESSION_COOKIE, s.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: opts.secureCookies,
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
      return meOf(user.id, s.csrfToken);
    },
  );

  app.post('/api/auth/logout', { config: { skipCsrf: true }, schema: { tags: ['auth'] } }, async (request, reply) => {
    if (request.auth?.sessionId) await identity.deleteSession(request.auth.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  app.get('/api/auth/me', { schema: { tags: ['auth'], response: { 200: me } } }, async (request) => {
    const u = requireUser(request);
    return meOf(u.id, request.auth?.csrfToken ?? null);
  });

  app.patch(
    '/api/auth/me',
    {
      schema: {
        tags: ['auth'],
        body: z.object({ name: name.optional(), language: language.optional(), currentPassword: z.string().max(200).optional(), newPassword: password.optional() }),
        response: { 200: me },
      },
    },
    async (request) => {
      const u = requireUser(request);
      const b = request.body;
      if (b.newPassword) {
        const ok = b.currentPassword ? await identity.checkPassword(u.email, b.currentPassword) : null;
        if (!ok) throw errors.validation([{ field: 'currentPassword', message: 'The current password is wrong.' }]);
      }
      await identity.updateUser(u.id, { name: b.name, language: b.language, password: b.newPassword });
      // A password change ends every session, including this one; the client signs in again.
      return meOf(u.id, b.newPassword ? null : request.auth?.csrfToken ?? null);
    },
  );

  // API tokens for machines: the token is shown once, only its hash is stored.
  app.get('/api/api-tokens', { schema: { tags: ['auth'] } }, async (request) => ({ items: await identity.listApiTokens(requireUser(request).id), nextCursor: null }));
  app.post(
    '/api/api-tokens',
    { schema: { tags: ['auth'], body: z.object({ name, expiresAt: z.string().datetime().nullable().optional() }) } },
    async (request, reply) => {
      const t = await identity.createApiToken(requireUser(request).id, request.body.name, request.body.expiresAt ?? null);
      return reply.status(201).send(t);
    },
  );
  app.delete('/api/api-tokens/:id', { schema: { tags: ['auth'], params: z.object({ id }) } }, async (request, reply) => {
    await identity.deleteApiToken(requireUser(request).id, request.params.id);
    return reply.status(204).send();
  });

  // Users (administrators).
  // Everyone works with colleagues: sharing a record with one person, picking a participant. The
  // directory gives any signed-in user the active users' names and addresses — nothing more (roles,
  // activity and settings stay behind CanManageAdministration on /api/users).
  app.get(
    '/api/users/directory',
    {
      schema: {
        tags: ['users'],
        querystring: z.object({
          q: z.string().trim().max(200).optional(),
          /** Comma-separated ids: names for users already on a list (a share, a queue). */
          ids: z
            .string()
            .max(100 * 37)
            .regex(/^[0-9a-f-]{36}(,[0-9a-f-]{36})*$/i, 'comma-separated user ids')
            .optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(z.object({ id: z.string(), name: z.string(), email: z.string() })) },
      },
    },
    async (request) => {
      requireUser(request);
      const { q, ids, limit, cursor } = request.query;
      if (ids) {
        const found = await Promise.all([...new Set(ids.toLowerCase().split(','))].map((uid) => identity.getUser(uid).catch(() => null)));
        return { items: found.filter((u) => u !== null).map((u) => ({ id: u.id, name: u.name, email: u.email })), nextCursor: null };
      }
      const after = decodeCursor(cursor);
      const rows = (await identity.listUsers({ q: q || undefined, limit: limit + 1, after: after ? { k: String(after.k), id: after.id } : null, activeOnly: true })).map((u) => ({
        id: u.id,
        name: u.name,
        email: u.email,
      }));
      return toPage(rows, limit, (u) => ({ k: u.name, id: u.id }));
    },
  );

  app.get(
    '/api/users',
    { preHandler: admin, schema: { tags: ['users'], querystring: z.object({ q: z.string().max(200).optional(), ...pageQuery }), response: { 200: pageSchema(userView) } } },
    async (request) => {
      const { q, limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await identity.listUsers({ q, limit: limit + 1, after: after ? { k: String(after.k), id: after.id } : null });
      return toPage(rows, limit, (u) => ({ k: u.name, id: u.id }));
    },
  );
  app.post(
    '/api/users',
    {
      preHandler: admin,
      schema: { tags: ['users'], body: z.object({ email, name, password: password.optional(), language: language.optional(), roleIds: z.array(id).max(200).optional() }), response: { 201: userView } },
    },
    async (request, reply) => reply.status(201).send(await identity.createUser(request.body)),
  );
  app.get('/api/users/:id', { preHandler: admin, schema: { tags: ['users'], params: z.object({ id }), response: { 200: userView } } }, async (request) =>
    identity.getUser(request.params.id),
  );
  app.patch(
    '/api/users/:id',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        params: z.object({ id }),
        body: z.object({ email: email.optional(), name: name.optional(), password: password.optional(), language: language.optional(), isActive: z.boolean().optional(), roleIds: z.array(id).max(200).optional() }),
        response: { 200: userView },
      },
    },
    async (request) => {
      if (request.params.id === requireUser(request).id && request.body.isActive === false) {
        throw errors.validation([{ field: 'isActive', message: 'You cannot deactivate yourself.' }]);
      }
      return identity.updateUser(request.params.id, request.body);
    },
  );

  // Roles (administrators).
  const roleBody = z.object({
    name,
    description: z.string().max(2000).nullable().optional(),
    userIds: z.array(id).max(10000).optional(),
    childRoleIds: z.array(id).max(1000).optional(),
  });
  app.get('/api/roles', { schema: { tags: ['roles'], response: { 200: pageSchema(roleView) } } }, async () => ({ items: await identity.listRoles(), nextCursor: null }));
  app.post('/api/roles', { preHandler: admin, schema: { tags: ['roles'], body: roleBody, response: { 201: roleView } } }, async (request, reply) =>
    reply.status(201).send(await identity.createRole(request.body)),
  );
  app.get('/api/roles/:id', { schema: { tags: ['roles'], params: z.object({ id }), response: { 200: roleView } } }, async (request) => identity.getRole(request.params.id));
  app.patch('/api/roles/:id', { preHandler: admin, schema: { tags: ['roles'], params: z.object({ id }), body: roleBody.partial(), response: { 200: roleView } } }, async (request) =>
    identity.updateRole(request.params.id, request.body),
  );
  app.delete('/api/roles/:id', { preHandler: admin, schema: { tags: ['roles'], params: z.object({ id }) } }, async (request, reply) => {
    await identity.deleteRole(request.params.id);
    return reply.status(204).send();
  });

  // System operations (P2): who holds each.
  const grant = z.object({ operation: z.enum(SYSTEM_OPERATIONS), userIds: z.array(z.string()), roleIds: z.array(z.string()) });
  app.get('/api/system-operations', { preHandler: admin, schema: { tags: ['roles'], response: { 200: z.object({ items: z.array(grant) }) } } }, async () => ({
    items: await identity.listGrants(),
  }));
  app.put(
    '/api/system-operations/:operation',
    {
      preHandler: admin,
      schema: { tags: ['roles'], params: z.object({ operation: z.enum(SYSTEM_OPERATIONS) }), body: z.object({ userIds: z.array(id).max(10000), roleIds: z.array(id).max(1000) }), response: { 200: grant } },
    },
    async (request) => {
      const op = request.params.operation;
      const me = requireUser(request);
      // Never let an administrator lock everyone (themselves included) out of administration.
      if (op === 'CanManageAdministration' && request.body.userIds.length === 0 && request.body.roleIds.length === 0) {
        throw errors.validation([{ field: 'userIds', message: 'At least one user or role must keep CanManageAdministration.' }]);
      }
      await identity.setGrants(op, request.body);
      const stillAdmin = (await identity.authUser(me.id))?.operations.includes('CanManageAdministration');
      if (op === 'CanManageAdministration' && !stillAdmin) request.log.warn({ userId: me.id }, 'administrator removed their own CanManageAdministration');
      return (await identity.listGrants()).find((g) => g.operation === op)!;
    },
  );
}
