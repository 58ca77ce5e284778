// Turns a Bot API request into one flat parameter bag. Telegram accepts the query string,
// application/json, application/x-www-form-urlencoded and multipart/form-data (the latter needed
// for uploads), so the emulator does too. Values from forms and query strings are strings; JSON
// keeps its types — the accessors below accept both, like the real server.
import type { IncomingMessage } from 'node:http';
import { ApiFailure, badRequest } from './store.js';

export interface UploadedFile {
  kind: 'upload';
  bytes: Buffer;
  fileName: string;
  mimeType: string;
}

export type Params = Record<string, unknown>;

/** Bodies above this are refused before parsing (documents may be 50 MB, plus multipart overhead). */
export const MAX_BODY_BYTES = 60 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiFailure(413, 'Request Entity Too Large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function parseParams(req: IncomingMessage, url: URL, body: Buffer): Promise<Params> {
  const params: Params = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  if (body.length === 0) return params;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest("can't parse JSON object");
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest("can't parse JSON object");
    Object.assign(params, parsed);
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = v;
  } else if (type.startsWith('multipart/form-data')) {
    // undici's Request parses multipart for us: no extra dependency for the emulator.
    let form: FormData;
    try {
      form = await new Request('http://emulator.local/', {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] as string },
        body,
      }).formData();
    } catch {
      throw badRequest("can't parse multipart/form-data");
    }
    for (const [k, v] of form.entries()) {
      if (typeof v === 'string') params[k] = v;
      else {
        const file: UploadedFile = {
          kind: 'upload',
          bytes: Buffer.from(await v.arrayBuffer()),
          fileName: v.name || k,
          mimeType: v.type || 'application/octet-stream',
        };
        params[k] = file;
      }
    }
  }
  return params;
}

export function isUpload(v: unknown): v is UploadedFile {
  return typeof v === 'object' && v !== null && (v as UploadedFile).kind === 'upload';
}

export function str(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function int(params: Params, name: string): number | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw badRequest(`field "${name}" must be an integer`);
  return n;
}

export function bool(params: Params, name: string): boolean {
  const v = params[name];
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** allowed_updates arrives as a JSON array, or as a JSON-encoded string in forms/query strings. */
export function stringList(params: Params, name: string): string[] | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      throw badRequest(`can't parse ${name} JSON array`);
    }
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw badRequest(`can't parse ${name} JSON array`);
  return list as string[];
}
