// The Fastify instance every module registers its routes on: zod validation, the api.md error
// format, OpenAPI, cookies, login rate limiting, multipart uploads, WebSocket, request ids.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type RawServerDefault } from 'fastify';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { AppError, errorBody } from './errors.js';
import { CSRF_HEADER, type Authenticator } from './auth.js';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface CreateAppOptions {
  logger: Logger;
  bodyLimit: number;
  authenticate: Authenticator;
  version: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function fieldOf(instancePath: string, context: string | undefined, params: Record<string, unknown> | undefined): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = params && typeof params.missingProperty === 'string' ? params.missingProperty : '';
  const joined = [path, missing].filter(Boolean).join('.');
  return joined || context || 'body';
}

export async function createApp(opts: CreateAppOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    trustProxy: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.decorateRequest('auth', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(multipart, { limits: { fileSize: opts.bodyLimit, files: 20 } });
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Switchboard API', version: opts.version, description: 'Communications hub for CRMs.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'sb_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.setErrorHandler((err: any, request, reply) => {
    if (err instanceof AppError) {
      if (err.statusCode === 429 && typeof err.details.retryAfter === 'number') reply.header('retry-after', String(err.details.retryAfter));
      return reply.status(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const fields = err.validation.map((v) => ({
        field: `${err.validationContext ?? 'body'}${v.instancePath ? '.' : ''}${fieldOf(v.instancePath, undefined, v.params as any)}`.replace(/\.body$/, ''),
        message: v.message ?? 'invalid',
      }));
      return reply.status(400).send(errorBody('VALIDATION_FAILED', 'Some fields are invalid.', { fields }));
    }
    if (isResponseSerializationError(err)) {
      request.log.error({ err: err.cause, url: request.url }, 'response did not match its schema');
      return reply.status(500).send(errorBody('INTERNAL', 'The server built an invalid response.', { requestId: request.id }));
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.status(400).send(errorBody('INVALID_JSON', 'The request body is not valid JSON.'));
    }
    if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.code === 'FST_REQ_FILE_TOO_LARGE') {
      return reply.status(413).send(errorBody('PAYLOAD_TOO_LARGE', 'The request body is too large.'));
    }
    if (status === 415 || err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'Send JSON (application/json) or multipart/form-data.'));
    }
    if (status === 429) {
      return reply.status(429).send(errorBody('RATE_LIMITED', 'Too many attempts; wait and try again.', {}));
    }
    if (status >= 400 && status < 500) {
      return reply.status(status).send(errorBody('BAD_REQUEST', err.message ?? 'Bad request.'));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'Something went wrong on the server.', { requestId: request.id }));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });

  // Authentication for /api: resolve the caller, then refuse anonymous calls to non-public routes
  // and cookie-authenticated writes without the CSRF header (bearer tokens are not sent by browsers
  // automatically, so they need no CSRF check).
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!request.url.startsWith('/api/')) return;
    const config = request.routeOptions.config ?? {};
    request.auth = await opts.authenticate(request);
    if (!request.auth) {
      if (config.public) return;
      throw new AppError(401, 'UNAUTHORIZED', 'Sign in first.');
    }
    if (request.auth.via === 'session' && !SAFE_METHODS.has(request.method) && !config.skipCsrf) {
      const given = request.headers[CSRF_HEADER];
      if (given !== request.auth.csrfToken) {
        throw new AppError(403, 'CSRF_FAILED', `Missing or wrong ${CSRF_HEADER} header for a cookie-authenticated write.`);
      }
    }
  });

  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  return app;
}
