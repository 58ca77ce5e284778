// The provider form's model and the pure rules the spec gives it (M1): security fills the usual
// port and a usual port fills the security; OAuth needs client ID and secret; Exchange needs
// "load" or "send". Kept apart from the page so the mapping to the API lives in one place.
export type Security = 'ssl' | 'starttls' | 'none';
export type ProviderType = 'imap' | 'exchange';
export type LoginFormat = 'manual' | 'email' | 'local-part';
export type AuthMethod = 'basic' | 'oauth2';

export interface Provider {
  id: string;
  key: string | null;
  name: string;
  type: ProviderType;
  imap: { host: string; port: number; security: Security } | null;
  smtp: { host: string; port: number; security: Security } | null;
  exchange: { serviceAddress: string; loadEmails: boolean; sendEmails: boolean } | null;
  loginFormat: LoginFormat;
  authMethod: AuthMethod;
  clientId: string | null;
  hasClientSecret: boolean;
  providerSavesSent: boolean;
  allowSelfSigned: boolean;
  preconfigured: boolean;
  domains: string[];
  mailboxCount: number;
}

export interface ProviderForm {
  name: string;
  type: ProviderType;
  imapHost: string;
  imapPort: number | '';
  imapSecurity: Security;
  smtpHost: string;
  smtpPort: number | '';
  smtpSecurity: Security;
  exchangeHost: string;
  loadEmails: boolean;
  sendEmails: boolean;
  loginFormat: LoginFormat;
  authMethod: AuthMethod;
  oauthClientId: string;
  oauthClientSecret: string;
  hasSecret: boolean;
  allowSelfSigned: boolean;
  providerSavesSent: boolean;
}

export const emptyForm: ProviderForm = {
  name: '',
  type: 'imap',
  imapHost: '',
  imapPort: 993,
  imapSecurity: 'ssl',
  smtpHost: '',
  smtpPort: 465,
  smtpSecurity: 'ssl',
  exchangeHost: '',
  loadEmails: true,
  sendEmails: true,
  loginFormat: 'email',
  authMethod: 'basic',
  oauthClientId: '',
  oauthClientSecret: '',
  hasSecret: false,
  allowSelfSigned: false,
  providerSavesSent: false,
};

const IMAP_PORT: Record<Security, number> = { ssl: 993, starttls: 143, none: 143 };
const SMTP_PORT: Record<Security, number> = { ssl: 465, starttls: 587, none: 25 };

export function portForSecurity(side: 'imap' | 'smtp', security: Security): number {
  return (side === 'imap' ? IMAP_PORT : SMTP_PORT)[security];
}

/** The security a well-known port implies, or null for an unusual port (keep the user's choice). */
export function securityForPort(side: 'imap' | 'smtp', port: number): Security | null {
  if (side === 'imap') return port === 993 ? 'ssl' : port === 143 ? 'starttls' : null;
  // 455 appears in some vendor docs as a typo for 465.
  return port === 465 || port === 455 ? 'ssl' : port === 587 ? 'starttls' : port === 25 ? 'none' : null;
}

/**
 * The security after the user sets a port: kept when the port is the usual one for it (143 is
 * usual for both STARTTLS and none, so "None" + 143 stays "None"), else the security the port
 * implies, else (an unusual port) kept as well.
 */
export function securityForPortChange(side: 'imap' | 'smtp', port: number, current: Security): Security {
  if (portForSecurity(side, current) === port) return current;
  return securityForPort(side, port) ?? current;
}

export function fromProvider(p: Provider): ProviderForm {
  return {
    name: p.name,
    type: p.type,
    imapHost: p.imap?.host ?? '',
    imapPort: p.imap?.port ?? 993,
    imapSecurity: p.imap?.security ?? 'ssl',
    smtpHost: p.smtp?.host ?? '',
    smtpPort: p.smtp?.port ?? 465,
    smtpSecurity: p.smtp?.security ?? 'ssl',
    exchangeHost: p.exchange?.serviceAddress ?? '',
    loadEmails: p.exchange?.loadEmails ?? true,
    sendEmails: p.exchange?.sendEmails ?? true,
    loginFormat: p.loginFormat ?? 'email',
    authMethod: p.authMethod ?? 'basic',
    oauthClientId: p.clientId ?? '',
    oauthClientSecret: '',
    hasSecret: p.hasClientSecret,
    allowSelfSigned: p.allowSelfSigned,
    providerSavesSent: p.providerSavesSent,
  };
}

export function toBody(f: ProviderForm): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: f.name.trim(),
    type: f.type,
    loginFormat: f.loginFormat,
    authMethod: f.authMethod,
    allowSelfSigned: f.allowSelfSigned,
    providerSavesSent: f.providerSavesSent,
  };
  if (f.type === 'imap') {
    body.imap = { host: f.imapHost.trim(), port: Number(f.imapPort), security: f.imapSecurity };
    body.smtp = { host: f.smtpHost.trim(), port: Number(f.smtpPort), security: f.smtpSecurity };
  } else {
    body.exchange = { serviceAddress: f.exchangeHost.trim(), loadEmails: f.loadEmails, sendEmails: f.sendEmails };
  }
  if (f.authMethod === 'oauth2') {
    body.clientId = f.oauthClientId.trim();
    if (f.oauthClientSecret) body.clientSecret = f.oauthClientSecret;
  }
  return body;
}

/** Client-side checks mirroring the server's, keyed by form field; messages are i18n keys. */
export function validate(f: ProviderForm): Record<string, 'v.required' | 'v.port' | 'v.loadOrSend'> {
  const e: Record<string, 'v.required' | 'v.port' | 'v.loadOrSend'> = {};
  if (!f.name.trim()) e.name = 'v.required';
  if (f.type === 'imap') {
    if (!f.imapHost.trim()) e.imapHost = 'v.required';
    if (!f.smtpHost.trim()) e.smtpHost = 'v.required';
    if (!(Number(f.imapPort) >= 1 && Number(f.imapPort) <= 65535)) e.imapPort = 'v.port';
    if (!(Number(f.smtpPort) >= 1 && Number(f.smtpPort) <= 65535)) e.smtpPort = 'v.port';
  } else {
    if (!f.exchangeHost.trim()) e.exchangeHost = 'v.required';
    if (!f.loadEmails && !f.sendEmails) e.loadEmails = 'v.loadOrSend';
  }
  if (f.authMethod === 'oauth2') {
    if (!f.oauthClientId.trim()) e.oauthClientId = 'v.required';
    if (!f.oauthClientSecret && !f.hasSecret) e.oauthClientSecret = 'v.required';
  }
  return e;
}

/** Maps server field paths (imap.host, exchange.loadEmails, ...) to form field names. */
export function formField(serverField: string): string {
  const f = serverField.replace(/^body\.?/, '');
  const map: Record<string, string> = {
    'imap.host': 'imapHost',
    'imap.port': 'imapPort',
    'imap.security': 'imapSecurity',
    'smtp.host': 'smtpHost',
    'smtp.port': 'smtpPort',
    'smtp.security': 'smtpSecurity',
    'exchange.serviceAddress': 'exchangeHost',
    clientId: 'oauthClientId',
    clientSecret: 'oauthClientSecret',
    'exchange.loadEmails': 'loadEmails',
    'exchange.sendEmails': 'sendEmails',
    exchange: 'loadEmails',
  };
  return map[f] ?? f.split('.').pop() ?? f;
}
