// Resolves the caller of an /api request: `Authorization: Bearer <api token>`, the session cookie,
// or `?access_token=` (only for the WebSocket upgrade, where browsers cannot set headers).
import type { FastifyRequest } from 'fastify';
import { SESSION_COOKIE, type Authenticator } from '../../platform/http/auth.js';
import type { IdentityService } from './service.js';

export function createAuthenticator(identity: IdentityService): Authenticator {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      return m ? identity.resolveApiToken(m[1]) : null;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (cookie) return identity.resolveSession(cookie);
    if (request.headers.upgrade?.toLowerCase() === 'websocket') {
      const q = request.query as Record<string, unknown> | undefined;
      if (q && typeof q.access_token === 'string') return identity.resolveApiToken(q.access_token);
    }
    return null;
  };
}
