// Resolves the caller of an /api request: `Authorization: Bearer <api token>` or the session
// cookie. (WebSocket clients that cannot set headers pass `?token=`; the realtime hub turns it
// into a bearer header before this runs.)
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
    return cookie ? identity.resolveSession(cookie) : null;
  };
}
