// Who is calling, and may they? The identity module resolves the caller (session cookie or API
// token); routes declare what they need. Every /api route requires a signed-in caller unless it
// opts out with `config: { public: true }` — secure by default.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from './errors.js';

export const SYSTEM_OPERATIONS = [
  'CanManageAdministration',
  'CanManageChats',
  'CanConnectSharedMailbox',
  'CanSyncSharedMailbox',
] as const;
export type SystemOperation = (typeof SYSTEM_OPERATIONS)[number];

export interface AuthUser {
  id: string;
  email: string;
  name: string;
  language: string;
  /** Roles the user belongs to, directly or through nested roles. */
  roleIds: string[];
  operations: SystemOperation[];
}

export interface AuthContext {
  user: AuthUser;
  via: 'session' | 'token';
  sessionId?: string;
  csrfToken?: string;
}

export type Authenticator = (request: FastifyRequest) => Promise<AuthContext | null>;

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** The route needs no signed-in caller. */
    public?: boolean;
    /** Cookie-authenticated writes normally need the CSRF header; webhooks and login opt out. */
    skipCsrf?: boolean;
    /** The route takes files (multipart or inline base64): it gets the upload body limit, not the JSON one. */
    uploads?: boolean;
    /** Input from an outside service (channel webhooks): NUL characters are cleaned by the route, not refused. */
    acceptsNul?: boolean;
  }
}

export const SESSION_COOKIE = 'sb_session';
export const CSRF_HEADER = 'x-csrf-token';

export function requireUser(request: FastifyRequest): AuthUser {
  if (!request.auth) throw errors.unauthorized();
  return request.auth.user;
}

export function hasOperation(request: FastifyRequest, op: SystemOperation): boolean {
  return !!request.auth?.user.operations.includes(op);
}

/** preHandler: 403 FORBIDDEN naming the operation when the caller lacks it. */
export function requireOperation(op: SystemOperation) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const user = requireUser(request);
    if (!user.operations.includes(op)) throw errors.forbidden(op);
  };
}
