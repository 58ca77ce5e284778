// Server text in the user's language. The API answers in English; where it also gives a stable
// code (error code, setting code, notification kind + link rel, timeline kind + data) the console
// says it in its own words, and falls back to the server's text for anything it does not know.
// Pure functions (unit-tested in test/unit/console-server-text.test.ts).
import { hasKey, type T, type TKey, type Vars } from './translate.js';

/** t(key) when the dictionary has `key`, else `fallback`. */
function tOr(t: T, key: string, vars: Vars | undefined, fallback: string): string {
  return hasKey(key) ? t(key, vars) : fallback;
}

/** A text only when every {placeholder} it uses has a value; otherwise null. */
function filled(t: T, key: string, vars: Vars): string | null {
  if (!hasKey(key)) return null;
  const text = t(key as TKey, vars);
  return /\{\w+\}/.test(text) ? null : text;
}

// --- system settings -------------------------------------------------------------------------

export function settingName(t: T, s: { code: string; name?: string | null }): string {
  return tOr(t, `setting.${s.code}.name`, undefined, s.name ?? s.code);
}

export function settingDescription(t: T, s: { code: string; description?: string | null }): string | null {
  return hasKey(`setting.${s.code}.description`) ? t(`setting.${s.code}.description` as TKey) : (s.description ?? null);
}

// --- connection test steps -------------------------------------------------------------------

export function stepName(t: T, step: string): string {
  return tOr(t, `test.step.${step.toLowerCase()}`, undefined, step);
}

/** What a failed step means and what to check, or null for a step the console does not know. */
export function stepFailedHint(t: T, step: string | null | undefined): string | null {
  return step && hasKey(`test.stepFailed.${step.toLowerCase()}`) ? t(`test.stepFailed.${step.toLowerCase()}` as TKey) : null;
}

// --- API errors --------------------------------------------------------------------------------

export interface ApiErrorLike {
  status: number;
  code: string;
  message: string;
  details: { fields?: { field: string; message: string }[]; operation?: string; [k: string]: unknown };
}

/** The text of an API error for the user; unknown codes keep the server's message. */
export function apiErrorText(t: T, e: ApiErrorLike): string {
  const d = e.details ?? {};
  switch (e.code) {
    case 'NETWORK':
      return t('error.network');
    case 'UNAUTHORIZED':
      return t('error.unauthorized');
    case 'FORBIDDEN':
      return typeof d.operation === 'string' ? t('error.forbiddenOperation', { operation: d.operation }) : t('error.forbidden');
    case 'CSRF_FAILED':
      return t('error.csrf');
    case 'RATE_LIMITED':
      return typeof d.retryAfter === 'number' ? t('error.rateLimitedWait', { n: d.retryAfter }) : t('error.rateLimited');
    case 'NOT_FOUND':
      return t('error.notFound');
    case 'VALIDATION_FAILED': {
      // Forms put each field's message next to its input; the toast names them for the rest.
      const fields = (d.fields ?? []).map((f) => `${f.field.replace(/^body\.?/, '')}: ${f.message}`);
      return fields.length ? `${t('error.validation')} (${fields.join('; ')})` : t('error.validation');
    }
    case 'CHANNEL_HAS_CHATS':
      return t('error.channelHasChats');
    case 'MAILBOX_VERIFICATION_FAILED':
      return typeof d.failedStep === 'string' ? t('error.verificationFailed', { step: stepName(t, d.failedStep) }) : e.message;
    case 'CRM_UNAVAILABLE':
      return t('error.crmUnavailable');
    case 'NO_OWNER':
      return t('error.noOwner');
  }
  if (/^HTTP_\d+$/.test(e.code)) return t('error.http', { status: e.status });
  return e.message;
}

// --- notifications ------------------------------------------------------------------------------

export interface NotificationLike {
  kind?: string;
  type?: string;
  title?: string;
  body?: string | null;
  message?: string;
  links?: { rel?: string; label: string; href: string }[];
  link?: string | null;
  /** Values for the texts, when the server sends them. */
  vars?: Record<string, unknown>;
  data?: any;
}

const EMAIL = /[^\s<>()"']+@[^\s<>()"']+\.[^\s<>()"'.]+/;

/** Title, body and links of a notification: from its kind and values where possible, else as sent. */
export function notificationText(t: T, n: NotificationLike): { title: string; body: string | null; links: { label: string; href: string }[] } {
  const kind = n.kind ?? n.type ?? '';
  const vars: Vars = {};
  for (const src of [n.data, n.vars]) {
    if (src && typeof src === 'object') for (const [k, v] of Object.entries(src)) if (typeof v === 'string' || typeof v === 'number') vars[k] = v;
  }
  // An address is the same in every language: take it from the server's title when not sent apart.
  if (vars.email === undefined) {
    const m = (n.title ?? '').match(EMAIL);
    if (m) vars.email = m[0];
  }
  const serverBody = n.body ?? n.message ?? null;
  const title = (kind && filled(t, `notify.${kind}.title`, vars)) || n.title || (kind ? kind : t('notifications.title'));
  const body = (kind && filled(t, `notify.${kind}.body`, vars)) || serverBody;
  const raw = Array.isArray(n.links) ? n.links : Array.isArray(n.data?.links) ? n.data.links : n.link ? [{ rel: 'open', label: '', href: n.link }] : [];
  const links = raw.map((l: { rel?: string; label: string; href: string }) => ({ href: l.href, label: l.rel ? tOr(t, `notify.link.${l.rel}`, undefined, l.label || t('notify.link.open')) : l.label }));
  return { title, body, links };
}

// --- record timeline ------------------------------------------------------------------------------

export interface TimelineLike {
  source: string;
  kind: string;
  title: string;
  data: Record<string, unknown>;
}

function value(t: T, prefix: string, v: unknown): string {
  const s = String(v ?? '');
  return tOr(t, `${prefix}${s}`, undefined, s);
}

/** A timeline entry's title from its kind and data; the server's title when the kind is unknown. */
export function timelineTitle(t: T, e: TimelineLike): string {
  const d = e.data ?? {};
  if (e.source === 'crm') {
    switch (e.kind) {
      case 'created':
        return t('timeline.created');
      case 'updated': {
        const fields = Array.isArray(d.changes) ? (d.changes as { field: string }[]).map((c) => value(t, 'field.', c.field)) : [];
        return fields.length ? t('timeline.changedFields', { fields: fields.join(', ') }) : t('timeline.changed');
      }
      case 'tag-added':
        return t('timeline.tagAdded', { name: String(d.name ?? '') });
      case 'tag-removed':
        return t('timeline.tagRemoved', { name: String(d.name ?? '') });
      case 'status-changed':
        return t('timeline.statusChanged', { from: value(t, 'crm.status.', d.from), to: value(t, 'crm.status.', d.to) });
      case 'shares-changed':
        return t('timeline.sharesChanged');
    }
    return e.title;
  }
  if (e.source === 'mail') return e.title && e.title !== '(no subject)' ? e.title : t('mail.noSubject');
  if (e.source === 'chat' && e.kind === 'chat' && typeof d.state === 'string') {
    // The channel is named in data when the server sends it; older entries only have it in the title.
    const channel = typeof d.channelName === 'string' ? (typeof d.channelKind === 'string' ? `${capitalize(d.channelKind)} (${d.channelName})` : d.channelName) : e.title.match(/^Chat in (.+) — [\w-]+$/)?.[1];
    return channel ? t('timeline.chat', { channel, state: value(t, 'chat.state.', d.state) }) : e.title;
  }
  return e.title;
}

function capitalize(s: string): string {
  return s.slice(0, 1).toUpperCase() + s.slice(1);
}
