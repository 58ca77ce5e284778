// Every system setting Switchboard knows (P3), typed. Adding a setting = one entry here.
import { z } from 'zod';

export type SettingType = 'integer' | 'boolean' | 'string' | 'url' | 'secret' | 'file';

export interface FileValue {
  fileKey: string;
  fileName: string;
  contentType: string;
  size: number;
}

export interface SettingDefinition {
  code: string;
  name: string;
  description: string;
  type: SettingType;
  /** Default when neither a system nor a user value exists; a function when it depends on config. */
  default: unknown | ((ctx: { siteUrl: string }) => unknown);
  /** Users may hold their own value (falls back to the system value). */
  perUser: boolean;
  /** Any signed-in user may read it (clients need it, e.g. the operators' notification sound). */
  readableByAll: boolean;
  /** Extra validation for the value beyond its type. */
  schema?: z.ZodTypeAny;
}

export const SETTINGS: SettingDefinition[] = [
  {
    code: 'MailboxSyncInterval',
    name: 'Mailbox sync interval (minutes)',
    description: 'Minutes between automatic mailbox syncs when push (IMAP IDLE) is not available.',
    type: 'integer',
    default: 5,
    perUser: false,
    readableByAll: true,
    schema: z.number().int().min(1).max(1440),
  },
  {
    code: 'OmniChatOperatorAcceptChatTimeout',
    name: 'Chat accept timeout (minutes)',
    description: 'Minutes an operator has to accept an offered chat under least-busy routing before it moves on.',
    type: 'integer',
    default: 5,
    perUser: false,
    readableByAll: true,
    schema: z.number().int().min(1).max(1440),
  },
  {
    code: 'SimultaneousChats',
    name: 'Simultaneous chats per operator',
    description: 'The most chats one operator works at once, across all channels.',
    type: 'integer',
    default: 2,
    perUser: true,
    readableByAll: true,
    schema: z.number().int().min(1).max(100),
  },
  {
    code: 'OmniChatNotificationSound',
    name: 'New chat notification sound',
    description: 'Sound played to operators on a new chat. Empty = the built-in sound.',
    type: 'file',
    default: null,
    perUser: false,
    readableByAll: true,
  },
  {
    code: 'SiteUrl',
    name: 'Site URL',
    description: 'Public base URL of this installation; webhooks and OAuth redirects are built from it.',
    type: 'url',
    default: ({ siteUrl }: { siteUrl: string }) => siteUrl,
    perUser: false,
    readableByAll: true,
  },
  { code: 'GoogleClientId', name: 'Google client ID', description: "The organisation's Google OAuth app client ID.", type: 'string', default: '', perUser: false, readableByAll: false },
  { code: 'GoogleClientSecret', name: 'Google client secret', description: "The organisation's Google OAuth app client secret.", type: 'secret', default: null, perUser: false, readableByAll: false },
  {
    code: 'UseSharedGoogleApp',
    name: 'Use the shared Google app',
    description: "Use a vendor-provided shared Google app instead of the organisation's own.",
    type: 'boolean',
    default: false,
    perUser: false,
    readableByAll: false,
  },
  { code: 'IdentityServerUrl', name: 'Identity server URL', description: 'Required before a Facebook channel can be added.', type: 'url', default: '', perUser: false, readableByAll: false },
  { code: 'IdentityServerClientId', name: 'Identity server client ID', description: 'Required before a Facebook channel can be added.', type: 'string', default: '', perUser: false, readableByAll: false },
  { code: 'IdentityServerClientSecret', name: 'Identity server client secret', description: 'Required before a Facebook channel can be added.', type: 'secret', default: null, perUser: false, readableByAll: false },
];

export const SETTINGS_BY_CODE = new Map(SETTINGS.map((s) => [s.code, s]));

/** Validates a value for a setting; returns an error message or null. */
export function checkValue(def: SettingDefinition, value: unknown): string | null {
  switch (def.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be a whole number';
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return 'must be true or false';
      break;
    case 'string':
    case 'secret':
      if (typeof value !== 'string') return 'must be a string';
      if (value.length > 10_000) return 'is too long';
      break;
    case 'url':
      if (typeof value !== 'string') return 'must be a URL';
      if (value !== '') {
        try {
          const u = new URL(value);
          if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http(s) URL';
        } catch {
          return 'must be a URL';
        }
      }
      break;
    case 'file':
      return 'is a file: upload it to /api/system-settings/{code}/file';
  }
  if (def.schema) {
    const r = def.schema.safeParse(value);
    if (!r.success) return r.error.issues.map((i) => i.message).join('; ');
  }
  return null;
}
