import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { hasOperation, requireOperation, requireUser } from '../../platform/http/auth.js';
import { errors } from '../../platform/http/errors.js';
import { SETTINGS_BY_CODE } from './registry.js';
import { builtinNotificationSound } from './builtin-sound.js';
import type { SettingsService } from './service.js';

const settingView = z.object({
  code: z.string(),
  name: z.string(),
  description: z.string(),
  type: z.enum(['integer', 'boolean', 'string', 'url', 'secret', 'file']),
  perUser: z.boolean(),
  value: z.unknown(),
  hasValue: z.boolean(),
  isDefault: z.boolean(),
  defaultValue: z.unknown(),
  userValue: z.unknown().optional(),
});
const codeParams = z.object({ code: z.string().min(1).max(100) });
const MAX_SOUND_BYTES = 2 * 1024 * 1024;

export function registerSettingsRoutes(app: App, settings: SettingsService) {
  const admin = requireOperation('CanManageAdministration');

  function assertReadable(request: Parameters<typeof hasOperation>[0], code: string) {
    const def = SETTINGS_BY_CODE.get(code);
    if (!def) throw errors.notFound('Setting', code);
    if (!def.readableByAll && !hasOperation(request, 'CanManageAdministration')) throw errors.forbidden('CanManageAdministration');
  }

  app.get('/api/system-settings', { schema: { tags: ['settings'], response: { 200: z.object({ items: z.array(settingView), nextCursor: z.null() }) } } }, async (request) => {
    requireUser(request);
    const items = await settings.list({ readableByAllOnly: !hasOperation(request, 'CanManageAdministration') });
    return { items, nextCursor: null };
  });

  app.get(
    '/api/system-settings/:code',
    { schema: { tags: ['settings'], params: codeParams, querystring: z.object({ userId: z.string().uuid().optional() }), response: { 200: settingView } } },
    async (request) => {
      assertReadable(request, request.params.code);
      const userId = request.query.userId;
      if (userId && userId !== requireUser(request).id && !hasOperation(request, 'CanManageAdministration')) throw errors.forbidden('CanManageAdministration');
      return settings.view(request.params.code, userId);
    },
  );

  app.put(
    '/api/system-settings/:code',
    {
      preHandler: admin,
      schema: {
        tags: ['settings'],
        params: codeParams,
        body: z.object({ value: z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]), userId: z.string().uuid().optional() }),
        response: { 200: settingView },
      },
    },
    async (request) =>
      settings.set(request.params.code, request.body.value, { actorId: requireUser(request).id, userId: request.body.userId }),
  );

  // File settings (the notification sound): multipart upload, served to every signed-in user.
  app.put('/api/system-settings/:code/file', { preHandler: admin, schema: { tags: ['settings'], params: codeParams, response: { 200: settingView } } }, async (request) => {
    const def = SETTINGS_BY_CODE.get(request.params.code);
    if (!def) throw errors.notFound('Setting', request.params.code);
    if (def.type !== 'file') throw errors.validation([{ field: 'code', message: `${def.code} is not a file setting.` }]);
    if (!request.isMultipart()) throw errors.validation([{ field: 'file', message: 'Send the file as multipart/form-data in a field named "file".' }]);
    const part = await request.file({ limits: { fileSize: MAX_SOUND_BYTES } });
    if (!part) throw errors.validation([{ field: 'file', message: 'No file was uploaded.' }]);
    const bytes = await part.toBuffer().catch(() => {
      throw errors.validation([{ field: 'file', message: `The file is larger than ${MAX_SOUND_BYTES / 1024 / 1024} MB.` }]);
    });
    if (!part.mimetype.startsWith('audio/')) throw errors.validation([{ field: 'file', message: 'The notification sound must be an audio file.' }]);
    return settings.setFile(def.code, { bytes, fileName: part.filename.slice(0, 200), contentType: part.mimetype }, requireUser(request).id);
  });

  app.get('/api/system-settings/:code/file', { schema: { tags: ['settings'], params: codeParams } }, async (request, reply) => {
    assertReadable(request, request.params.code);
    const file = await settings.getFile(request.params.code);
    if (file) {
      return reply
        .header('content-type', file.contentType)
        .header('content-disposition', `inline; filename="${encodeURIComponent(file.fileName)}"`)
        .header('x-content-type-options', 'nosniff')
        .send(file.bytes);
    }
    if (request.params.code === 'OmniChatNotificationSound') {
      return reply.header('content-type', 'audio/wav').header('cache-control', 'public, max-age=86400').send(builtinNotificationSound());
    }
    throw errors.notFound('File of setting', request.params.code);
  });
}
