// Route tables of the bad-input suites that are shared: the foundation table (bad-input.test.ts)
// and the mail-providers table (mail-providers-bad-input.test.ts). They live here so that
// route-coverage.test.ts can check every /api route of the OpenAPI document is in some table
// (with crm-route-table.ts and api-route-table.ts).

export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const UNKNOWN = UNKNOWN_ID;

// --- foundation: auth, identity, roles, operations, settings, system (bad-input.test.ts) ---

export interface FoundationRoute {
  method: string;
  path: string;
  /** A valid body, for routes that take one; string fields get the hostile values in turn. */
  body?: Record<string, unknown>;
  /** Query parameters; string values get the hostile values in turn. */
  query?: Record<string, string>;
  /** Needs CanManageAdministration (a plain user gets 403 naming it). */
  admin?: boolean;
  /** Answers without a caller (login). */
  public?: boolean;
  /** Takes a multipart upload rather than JSON. */
  multipart?: boolean;
}

export const FOUNDATION_ROUTES: FoundationRoute[] = [
  { method: 'POST', path: '/api/auth/login', body: { email: 'fuzz@example.test', password: 'fuzz-password' }, public: true },
  { method: 'POST', path: '/api/auth/logout' },
  { method: 'GET', path: '/api/auth/me' },
  { method: 'PATCH', path: '/api/auth/me', body: { name: 'Fuzz' } },
  { method: 'GET', path: '/api/users', query: { q: 'fuzz' }, admin: true },
  { method: 'GET', path: '/api/users/directory', query: { q: 'fuzz' } },
  { method: 'POST', path: '/api/users', body: { email: 'fuzz@example.test', name: 'Fuzz', password: 'fuzz-password' }, admin: true },
  { method: 'PATCH', path: '/api/users/{id}', body: { name: 'Fuzz' }, admin: true },
  { method: 'GET', path: '/api/users/{id}', admin: true },
  { method: 'GET', path: '/api/roles' },
  { method: 'GET', path: '/api/roles/{id}' },
  { method: 'POST', path: '/api/roles', body: { name: 'Fuzz role', description: 'd' }, admin: true },
  { method: 'PATCH', path: '/api/roles/{id}', body: { name: 'Fuzz role 2' }, admin: true },
  { method: 'DELETE', path: '/api/roles/{id}', admin: true },
  { method: 'GET', path: '/api/system-operations', admin: true },
  { method: 'PUT', path: '/api/system-operations/CanManageChats', body: { userIds: [], roleIds: [] }, admin: true },
  { method: 'GET', path: '/api/system-settings' },
  { method: 'GET', path: '/api/system-settings/SiteUrl' },
  { method: 'PUT', path: '/api/system-settings/SiteUrl', body: { value: 'https://x.example' }, admin: true },
  { method: 'GET', path: '/api/system-settings/OmniChatNotificationSound/file' },
  { method: 'PUT', path: '/api/system-settings/OmniChatNotificationSound/file', multipart: true, admin: true },
  { method: 'GET', path: '/api/api-tokens' },
  { method: 'POST', path: '/api/api-tokens', body: { name: 'fuzz' } },
  { method: 'DELETE', path: '/api/api-tokens/{id}' },
  { method: 'POST', path: '/api/system/ping', admin: true },
  { method: 'GET', path: '/api/system/status', admin: true },
];

// --- mail providers, provider domains, mailboxes, notifications (mail-providers-bad-input.test.ts) ---

export interface MailProviderRoute {
  method: string;
  /** {id} is replaced by an id (unknown UUID, junk, or a real one). */
  path: string;
  /** A valid body; `closedPort` is a loopback port nothing listens on (connection tests fail fast). */
  body?: (closedPort: number) => Record<string, unknown>;
  admin?: boolean;
  /** The route has an id in the path that must 404 when unknown. */
  id?: boolean;
}

const endpoint = (closedPort: number) => ({ host: '127.0.0.1', port: closedPort, security: 'ssl' });
export const providerBody = (closedPort: number) => ({ name: 'Fuzz Mail', type: 'imap', imap: endpoint(closedPort), smtp: endpoint(closedPort) });

export const MAIL_PROVIDER_ROUTES: MailProviderRoute[] = [
  { method: 'GET', path: '/api/mail-providers' },
  { method: 'POST', path: '/api/mail-providers', body: providerBody, admin: true },
  { method: 'POST', path: '/api/mail-providers/test', body: providerBody, admin: true },
  { method: 'GET', path: '/api/mail-providers/{id}', id: true },
  { method: 'PATCH', path: '/api/mail-providers/{id}', body: () => ({ name: 'Fuzz Mail 2' }), admin: true, id: true },
  { method: 'DELETE', path: '/api/mail-providers/{id}', admin: true, id: true },
  { method: 'POST', path: '/api/mail-providers/{id}/test', body: () => ({ email: 'fuzz@fuzz.example', password: 'pw' }), admin: true, id: true },
  { method: 'GET', path: '/api/mail-provider-domains' },
  { method: 'POST', path: '/api/mail-provider-domains', body: () => ({ domain: 'fuzz.example', providerId: UNKNOWN }), admin: true },
  { method: 'DELETE', path: '/api/mail-provider-domains/{domain}', admin: true },
  { method: 'POST', path: '/api/mailboxes/detect', body: () => ({ email: 'fuzz@fuzz.example' }) },
  { method: 'GET', path: '/api/mailboxes' },
  { method: 'POST', path: '/api/mailboxes', body: () => ({ email: 'fuzz@fuzz.example', password: 'pw', login: 'fuzz' }) },
  { method: 'GET', path: '/api/mailboxes/{id}', id: true },
  { method: 'PATCH', path: '/api/mailboxes/{id}', body: () => ({ alias: 'Fuzz', signatureHtml: '<b>x</b>' }), id: true },
  { method: 'DELETE', path: '/api/mailboxes/{id}', id: true },
  { method: 'GET', path: '/api/notifications' },
  { method: 'POST', path: '/api/notifications/{id}/read', id: true },
];
