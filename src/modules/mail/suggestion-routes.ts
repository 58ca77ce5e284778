// Routes for contact suggestions from mail (B5): list, create a contact from one, dismiss one.
import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { requireUser } from '../../platform/http/auth.js';
import { errors } from '../../platform/http/errors.js';
import { pageQuery, pageSchema } from '../../platform/http/paging.js';
import type { ContactSuggestions } from './suggestions.js';

// PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing in the driver.
const noNul = (s: string) => !s.includes('\u0000');
const email = z.string().trim().toLowerCase().max(320).email();
const suggestion = z.object({ email: z.string(), name: z.string().nullable(), messageCount: z.number(), lastSeenAt: z.string() });

export function registerSuggestionRoutes(app: App, suggestions: ContactSuggestions) {
  app.get(
    '/api/contact-suggestions',
    { schema: { tags: ['mail'], querystring: z.object({ ...pageQuery }), response: { 200: pageSchema(suggestion) } } },
    async (request) => suggestions.list(requireUser(request), request.query),
  );

  app.get(
    '/api/contact-suggestions/lookup',
    {
      schema: {
        tags: ['mail'],
        querystring: z.object({ emails: z.string().max(16_500).refine(noNul, 'Must not contain NUL characters.') }),
        response: { 200: z.object({ items: z.array(z.object({ email: z.string(), contactId: z.string().nullable(), own: z.boolean() })) }) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const emails = request.query.emails.split(',');
      if (emails.length > 50) throw errors.validation([{ field: 'emails', message: 'At most 50 addresses.' }]);
      return { items: await suggestions.lookup(user, emails) };
    },
  );

  app.post(
    '/api/contact-suggestions/create',
    {
      schema: {
        tags: ['mail'],
        body: z.object({ email, name: z.string().trim().max(200).refine(noNul, 'Must not contain NUL characters.').optional() }),
        response: { 201: z.object({ contactId: z.string(), accountId: z.string().nullable(), linked: z.number() }) },
      },
    },
    async (request, reply) => reply.status(201).send(await suggestions.create(requireUser(request), request.body)),
  );

  app.post(
    '/api/contact-suggestions/dismiss',
    { schema: { tags: ['mail'], body: z.object({ email }), response: { 200: z.object({ dismissed: z.boolean() }) } } },
    async (request) => {
      await suggestions.dismiss(requireUser(request), request.body.email);
      return { dismissed: true };
    },
  );
}
