// POST /api/emails/send — JSON, or multipart/form-data with a `message` JSON field plus files.
import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { requireUser } from '../../platform/http/auth.js';
import { errors } from '../../platform/http/errors.js';
import { findNul } from '../../platform/http/nul.js';
import type { Sender, SendAttachment } from './send.js';

const address = z.string().trim().toLowerCase().email().max(320);
// Header values must be one line: a CR or LF here is refused, not silently folded (send.ts also
// flattens whatever reaches it, so nothing can add a header line).
const oneLine = (max: number, min = 0) => z.string().min(min).max(max).refine((v) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v), { message: 'must be one line, without control characters' });
const mimeType = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;\s*[a-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[a-z0-9!#$&^_.+-]+))*$/i;
const attachmentJson = z.object({
  filename: oneLine(255, 1),
  contentType: z.string().max(200).regex(mimeType, 'must be a MIME type such as application/pdf').default('application/octet-stream'),
  contentBase64: z.string().max(30 * 1024 * 1024).regex(/^[A-Za-z0-9+/\r\n_-]*={0,2}\s*$/, 'must be base64'),
});
const sendBody = z
  .object({
    mailboxId: z.string().uuid(),
    to: z.array(address).min(1).max(100),
    cc: z.array(address).max(100).optional(),
    bcc: z.array(address).max(100).optional(),
    subject: oneLine(1000).optional(),
    text: z.string().max(5 * 1024 * 1024).optional(),
    html: z.string().max(5 * 1024 * 1024).optional(),
    inReplyToEmailId: z.string().uuid().optional(),
    attachments: z.array(attachmentJson).max(20).optional(),
  })
  .refine((b) => b.subject || b.text || b.html || b.inReplyToEmailId, { message: 'Give a subject or a body.', path: ['text'] });

const sendResult = z.object({
  emailId: z.string(),
  messageId: z.string(),
  threadId: z.string(),
  status: z.enum(['sent', 'queued']),
  savedToSent: z.boolean(),
  rejectedRecipients: z.array(z.string()).optional(),
});

export function registerSendRoutes(app: App, sender: Sender) {
  app.post(
    '/api/emails/send',
    {
      // Attachments travel inside the JSON as base64: this route gets the upload body limit.
      config: { uploads: true },
      schema: {
        tags: ['mail'],
        // Multipart bodies are validated by hand below; JSON bodies by this schema's shape.
        body: z.unknown(),
        response: { 201: sendResult, 202: sendResult },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      let raw: unknown = request.body;
      const files: SendAttachment[] = [];
      if (request.isMultipart()) {
        raw = undefined;
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            const content = await part.toBuffer();
            files.push({ filename: part.filename || 'attachment', contentType: part.mimetype || 'application/octet-stream', content });
          } else if (part.fieldname === 'message') {
            try {
              raw = JSON.parse(String(part.value));
            } catch {
              throw errors.validation([{ field: 'message', message: 'must be JSON' }]);
            }
          }
        }
      }
      if (request.isMultipart()) {
        // The NUL check the JSON body gets (platform/http/app.ts), for the parts.
        const nul = findNul(raw, 'message') ?? findNul(files.map((f) => ({ filename: f.filename })), 'files');
        if (nul) throw errors.validation([{ field: nul, message: 'must not contain the NUL character (\\u0000)' }]);
      }
      const parsed = sendBody.safeParse(raw);
      if (!parsed.success) {
        throw errors.validation(parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message })));
      }
      const b = parsed.data;
      const attachments = [
        ...(b.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64') })),
        ...files,
      ];
      const res = await sender.send(user.id, { ...b, attachments });
      return reply.status(res.status === 'sent' ? 201 : 202).send(res);
    },
  );
}
