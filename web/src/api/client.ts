// The one way the console talks to the server: JSON over fetch with the session cookie, the CSRF
// header on writes (the server refuses cookie-authenticated writes without it), and errors turned
// into ApiError so forms can show `message` and map `details.fields` onto their inputs. What the
// user reads goes through errorText(), which says known error codes in the user's language.
import { tr } from '../i18n/translate.js';
import { apiErrorText } from '../i18n/serverText.js';

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { fields?: FieldError[]; operation?: string; [k: string]: unknown } = {},
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** Called on any 401 so the shell can return to the login page. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function api<T = unknown>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'NETWORK', tr('error.network'));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = data?.error;
    if (res.status === 401 && !path.startsWith('/api/auth/login')) onUnauthorized();
    throw new ApiError(res.status, e?.code ?? 'HTTP_' + res.status, e?.message ?? tr('error.http', { status: res.status }), e?.details ?? {});
  }
  return data as T;
}

export const get = <T,>(path: string) => api<T>('GET', path);
export const post = <T,>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T,>(path: string, body?: unknown) => api<T>('PUT', path, body ?? {});
export const patch = <T,>(path: string, body?: unknown) => api<T>('PATCH', path, body ?? {});
export const del = <T,>(path: string) => api<T>('DELETE', path);

/** Builds `path?a=1&b=2`, skipping empty values. */
export function qs(path: string, params: Record<string, string | number | boolean | null | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `${path}?${s}` : path;
}

/** Error text for the user, in their language for known codes; 403 names the missing system operation. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return apiErrorText(tr, e);
  return e instanceof Error ? e.message : String(e);
}

/** `details.fields` as { fieldName: message } for form inputs (last path segment wins). */
export function fieldErrors(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (e instanceof ApiError && e.details.fields) {
    for (const f of e.details.fields) {
      const key = f.field.replace(/^body\.?/, '');
      out[key] = f.message;
      const last = key.split('.').pop();
      if (last && !(last in out)) out[last] = f.message;
    }
  }
  return out;
}
