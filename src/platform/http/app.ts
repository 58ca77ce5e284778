// The Fastify instance every module registers its routes on: zod validation, the api.md error
// format, OpenAPI, cookies, login rate limiting, multipart uploads, WebSocket, request ids.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
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
import type { TrustProxy } from '../../config/index.js';
import { AppError, errorBody, errors } from './errors.js';
import { CSRF_HEADER, type Authenticator } from './auth.js';
import { findNul } from './nul.js';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface CreateAppOptions {
  logger: Logger;
  /** Largest body of an ordinary route (JSON), bytes. */
  bodyLimit: number;
  /** Largest uploaded file, and the body limit of routes that take files inline; default bodyLimit. */
  uploadLimit?: number;
  /** Who may set X-Forwarded-For (see SWITCHBOARD_TRUST_PROXY); default nobody. */
  trustProxy?: TrustProxy;
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
  const uploadLimit = opts.uploadLimit ?? opts.bodyLimit;
  const app = Fastify({
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    // `//api/roles` is /api/roles (and so needs a caller like it), not a different, unknown path.
    // Path parameters are bounded by each route's schema (a 400 VALIDATION_FAILED naming the
    // parameter) and the whole URL by Node's 16 KiB header limit; the router's own limit (100
    // characters by default, there against regex parameters, which we do not use) answered 414 in
    // Fastify's format instead — or 404 from the console's catch-all on GET — and refused a
    // 101-character provider domain that POST /api/mail-provider-domains accepts.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 16 * 1024 },
    // Errors the router raises before any route runs, in the API's format (see the error handler).
    frameworkErrors: (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      if (err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        const message = err.code === 'FST_ERR_BAD_URL' ? 'must be valid percent-encoded UTF-8' : 'is too long';
        return reply.status(400).send(errorBody('VALIDATION_FAILED', 'Some fields are invalid.', { fields: [{ field: 'params', message }] }));
      }
      return reply.send(err);
    },
    // Off by default: a client must not choose its own address (login rate limiting keys on it).
    // (Fastify's types omit the hop count its runtime accepts.)
    trustProxy: (opts.trustProxy ?? false) as boolean | string,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.decorateRequest('auth', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Ordinary routes get the small JSON limit (set above); upload routes the large one. Multipart
  // bodies are streamed by @fastify/multipart and bounded per file by its fileSize limit instead.
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit !== undefined) return;
    if (route.config?.uploads) route.bodyLimit = uploadLimit;
  });

  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: uploadLimit, files: 20 } });
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

  // Authentication, decided by the route the router matched — never by the raw URL, which the
  // router decodes (`/%61pi/roles` is /api/roles). Every route needs a signed-in caller unless it
  // is marked `config: { public: true }` (login, health, OpenAPI, webhooks, the console); unknown
  // URLs go on to the 404 handler. preParsing: after route onRequest hooks (the realtime route turns
  // `?token=` into a bearer header there) and before any body is read, so an anonymous caller
  // cannot make the server parse a large body. Cookie-authenticated writes also need the CSRF
  // header (browsers do not send bearer tokens by themselves, so those need no CSRF check).
  app.addHook('preParsing', async (request, _reply, payload) => {
    const config = request.routeOptions.config ?? {};
    if (config.public || request.is404) return payload;
    request.auth = await opts.authenticate(request);
    if (!request.auth) throw new AppError(401, 'UNAUTHORIZED', 'Sign in first.');
    if (request.auth.via === 'session' && !SAFE_METHODS.has(request.method) && !config.skipCsrf) {
      const given = request.headers[CSRF_HEADER];
      if (given !== request.auth.csrfToken) {
        throw new AppError(403, 'CSRF_FAILED', `Missing or wrong ${CSRF_HEADER} header for a cookie-authenticated write.`);
      }
    }
    return payload;
  });

  // NUL characters are valid JSON and URL text but PostgreSQL text cannot hold them (the query
  // fails with a 500), and no field of ours means anything with one: refuse them everywhere.
  // Routes that take input from outside services (`config.acceptsNul`, e.g. channel webhooks)
  // clean it themselves: refusing it there would make the service retry and then drop the update.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const acceptsNul = request.routeOptions.config?.acceptsNul === true;
    const field = findNul(request.params, 'params') ?? findNul(request.query, 'querystring') ?? (acceptsNul ? null : findNul(request.body, 'body'));
    if (field) throw errors.validation([{ field, message: 'must not contain the NUL character (\\u0000)' }]);
  });

  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  return app;
}
