import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { requireOperation } from '../../platform/http/auth.js';
import { decodeCursor, pageQuery, pageSchema, toPage } from '../../platform/http/paging.js';
import type { MailProvidersService } from './service.js';

const security = z.enum(['ssl', 'starttls', 'none']);
const endpointIn = z.object({
  host: z.string().max(255).optional(),
  port: z.number().int().min(1).max(65535).nullable().optional(),
  security: security.nullable().optional(),
});
const endpointView = z.object({ host: z.string(), port: z.number(), security });
const loginFormat = z.enum(['manual', 'email', 'local-part']);
const authMethod = z.enum(['basic', 'oauth2']);

const providerBody = z.object({
  name: z.string().max(200),
  type: z.enum(['imap', 'exchange']),
  imap: endpointIn.nullable().optional(),
  smtp: endpointIn.nullable().optional(),
  exchange: z
    .object({ serviceAddress: z.string().max(500).optional(), loadEmails: z.boolean().optional(), sendEmails: z.boolean().optional() })
    .nullable()
    .optional(),
  loginFormat: loginFormat.optional(),
  authMethod: authMethod.optional(),
  clientId: z.string().max(500).nullable().optional(),
  clientSecret: z.string().min(1).max(2000).nullable().optional(),
  providerSavesSent: z.boolean().optional(),
  allowSelfSigned: z.boolean().optional(),
  domains: z.array(z.string().max(253)).max(500).optional(),
});
const providerPatch = providerBody.omit({ domains: true }).partial();

export const providerView = z.object({
  id: z.string(),
  key: z.string().nullable(),
  name: z.string(),
  type: z.enum(['imap', 'exchange']),
  imap: endpointView.nullable(),
  smtp: endpointView.nullable(),
  exchange: z.object({ serviceAddress: z.string(), loadEmails: z.boolean(), sendEmails: z.boolean() }).nullable(),
  loginFormat,
  authMethod,
  clientId: z.string().nullable(),
  hasClientSecret: z.boolean(),
  providerSavesSent: z.boolean(),
  allowSelfSigned: z.boolean(),
  preconfigured: z.boolean(),
  domains: z.array(z.string()),
  mailboxCount: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const probeStep = z.object({
  step: z.enum(['dns', 'tcp', 'tls', 'greeting', 'login', 'capability']),
  ok: z.boolean(),
  skipped: z.boolean().optional(),
  ms: z.number(),
  message: z.string(),
});
export const probeResultView = z.object({
  protocol: z.enum(['imap', 'smtp', 'https']),
  host: z.string(),
  port: z.number(),
  ok: z.boolean(),
  steps: z.array(probeStep),
  failedStep: probeStep.shape.step.nullable(),
  message: z.string(),
  errorKind: z.enum(['auth', 'transient', 'permanent']).nullable(),
  capabilities: z.array(z.string()),
  sentFolder: z.string().nullable().optional(),
});
export const testResultView = z.object({
  ok: z.boolean(),
  message: z.string(),
  failedStep: z.string().nullable(),
  imap: probeResultView.nullable(),
  smtp: probeResultView.nullable(),
  exchange: probeResultView.nullable(),
});
const credentials = {
  email: z.string().trim().email().max(320).optional(),
  password: z.string().max(1000).optional(),
  login: z.string().max(320).optional(),
};

const domainView = z.object({
  domain: z.string(),
  providerId: z.string(),
  providerName: z.string(),
  source: z.enum(['seed', 'admin', 'learned']),
  createdAt: z.string(),
});

const id = z.string().uuid();

export function registerMailProvidersRoutes(app: App, service: MailProvidersService) {
  const admin = requireOperation('CanManageAdministration');
  const tags = ['mail-providers'];

  // Any signed-in user lists providers (to pick one when adding a mailbox); secrets never leave.
  app.get(
    '/api/mail-providers',
    { schema: { tags, querystring: z.object({ q: z.string().max(200).optional(), ...pageQuery }), response: { 200: pageSchema(providerView) } } },
    async (request) => {
      const { q, limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await service.list({ q, limit: limit + 1, after: after ? { k: String(after.k), id: after.id } : null });
      return toPage(rows, limit, (p) => ({ k: p.name, id: p.id }));
    },
  );
  app.post('/api/mail-providers', { preHandler: admin, schema: { tags, body: providerBody, response: { 201: providerView } } }, async (request, reply) =>
    reply.status(201).send(await service.create(request.body)),
  );
  // Connection test of an unsaved provider (the form's "Test" button before "Save").
  app.post(
    '/api/mail-providers/test',
    { preHandler: admin, schema: { tags, body: providerBody.extend(credentials), response: { 200: testResultView } } },
    async (request) => {
      const { email, password, login, ...input } = request.body;
      return service.testUnsaved(input, { email, password, login });
    },
  );
  app.get('/api/mail-providers/:id', { schema: { tags, params: z.object({ id }), response: { 200: providerView } } }, async (request) =>
    service.get(request.params.id),
  );
  app.patch('/api/mail-providers/:id', { preHandler: admin, schema: { tags, params: z.object({ id }), body: providerPatch, response: { 200: providerView } } }, async (request) =>
    service.update(request.params.id, request.body),
  );
  app.delete('/api/mail-providers/:id', { preHandler: admin, schema: { tags, params: z.object({ id }) } }, async (request, reply) => {
    await service.remove(request.params.id);
    return reply.status(204).send();
  });
  app.post(
    '/api/mail-providers/:id/test',
    { preHandler: admin, schema: { tags, params: z.object({ id }), body: z.object(credentials), response: { 200: testResultView } } },
    async (request) => service.test(request.params.id, request.body),
  );

  // Domain directory (M3).
  app.get(
    '/api/mail-provider-domains',
    {
      schema: {
        tags,
        querystring: z.object({ providerId: id.optional(), q: z.string().max(253).optional(), ...pageQuery }),
        response: { 200: pageSchema(domainView) },
      },
    },
    async (request) => {
      const { providerId, q, limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await service.listDomains({ providerId, q, limit: limit + 1, after: after ? after.id : null });
      return toPage(rows, limit, (d) => ({ k: d.domain, id: d.domain }));
    },
  );
  app.post(
    '/api/mail-provider-domains',
    { preHandler: admin, schema: { tags, body: z.object({ domain: z.string().max(253), providerId: id }), response: { 201: domainView } } },
    async (request, reply) => reply.status(201).send(await service.addDomain(request.body.domain, request.body.providerId, 'admin')),
  );
  app.delete(
    '/api/mail-provider-domains/:domain',
    { preHandler: admin, schema: { tags, params: z.object({ domain: z.string().max(253) }) } },
    async (request, reply) => {
      await service.removeDomain(request.params.domain);
      return reply.status(204).send();
    },
  );
}
