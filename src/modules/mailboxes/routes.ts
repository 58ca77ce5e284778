// Mailbox routes (B1, B2, B6) and provider detection. The mail module registers
// /api/mailboxes/{id}/folders, /sync and /sync-status itself.
import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { requireUser } from '../../platform/http/auth.js';
import { providerView, type MailProvidersService } from '../mail-providers/index.js';
import { LOAD_PERIODS, type MailboxesService } from './service.js';

const settingsView = z.object({
  loadPeriod: z.enum(LOAD_PERIODS as [string, ...string[]]),
  autoLoad: z.boolean(),
  allFolders: z.boolean(),
  selectedFolders: z.array(z.string()),
  sendEnabled: z.boolean(),
  defaultSender: z.string().nullable(),
  alias: z.string().nullable(),
  useSignature: z.boolean(),
  signatureHtml: z.string().nullable(),
});

const mailboxView = z.object({
  id: z.string(),
  userId: z.string(),
  email: z.string(),
  login: z.string(),
  providerId: z.string(),
  providerName: z.string(),
  kind: z.enum(['imap', 'exchange']),
  status: z.enum(['active', 'needs-reauth', 'disabled']),
  statusReason: z.string().nullable(),
  hasPassword: z.boolean(),
  settings: settingsView,
  createdAt: z.string(),
  updatedAt: z.string(),
});

const email = z.string().trim().toLowerCase().email().max(320);
const id = z.string().uuid();

const patchBody = z.object({
  loadPeriod: z.enum(LOAD_PERIODS as [string, ...string[]]).optional(),
  autoLoad: z.boolean().optional(),
  allFolders: z.boolean().optional(),
  selectedFolders: z.array(z.string().min(1).max(1000)).max(2000).optional(),
  sendEnabled: z.boolean().optional(),
  defaultSender: email.nullable().optional(),
  // The alias becomes the display name in From: one line, so it can never start another header.
  alias: z.string().max(200).regex(/^[^\r\n]*$/, 'must be one line (no line breaks)').nullable().optional(),
  useSignature: z.boolean().optional(),
  // Size is checked in bytes by the service (inline images make signatures large).
  signatureHtml: z.string().max(1024 * 1024).nullable().optional(),
  password: z.string().min(1).max(1000).optional(),
  login: z.string().max(320).optional(),
});

export function registerMailboxesRoutes(app: App, service: MailboxesService, providers: MailProvidersService) {
  const tags = ['mailboxes'];

  app.post(
    '/api/mailboxes/detect',
    {
      schema: {
        tags,
        body: z.object({ email }),
        response: {
          200: z.object({
            provider: providerView.nullable(),
            authMethod: z.enum(['basic', 'oauth2']).nullable(),
            source: z.enum(['directory', 'mx']).nullable(),
            domain: z.string(),
          }),
        },
      },
    },
    async (request) => providers.detect(request.body.email),
  );

  app.get('/api/mailboxes', { schema: { tags, response: { 200: z.object({ items: z.array(mailboxView), nextCursor: z.null() }) } } }, async (request) => ({
    items: await service.list(requireUser(request).id),
    nextCursor: null,
  }));

  app.post(
    '/api/mailboxes',
    {
      schema: {
        tags,
        body: z.object({ email, password: z.string().min(1).max(1000).optional(), providerId: id.optional(), login: z.string().max(320).optional() }),
        response: { 201: mailboxView },
      },
    },
    async (request, reply) => reply.status(201).send(await service.create(requireUser(request).id, request.body)),
  );

  app.get('/api/mailboxes/:id', { schema: { tags, params: z.object({ id }), response: { 200: mailboxView } } }, async (request) =>
    service.get(requireUser(request).id, request.params.id),
  );

  app.patch('/api/mailboxes/:id', { schema: { tags, params: z.object({ id }), body: patchBody, response: { 200: mailboxView } } }, async (request) =>
    service.update(requireUser(request).id, request.params.id, request.body as Parameters<MailboxesService['update']>[2]),
  );

  app.delete(
    '/api/mailboxes/:id',
    { schema: { tags, params: z.object({ id }), querystring: z.object({ deleteMail: z.enum(['true', 'false']).default('false') }) } },
    async (request, reply) => {
      await service.remove(requireUser(request).id, request.params.id, request.query.deleteMail === 'true');
      return reply.status(204).send();
    },
  );
}
