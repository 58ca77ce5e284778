// Table types of the mail-providers module (see src/platform/db/index.ts for the cross-dialect conventions).
// OAuth client secrets are NOT here: they live in the SecretStore as `mail-provider:<id>:client-secret`.
export interface MailProvidersTable {
  id: string;
  /** Stable key of a preconfigured provider ('gmail', 'microsoft365', …); null for admin-made ones. */
  key: string | null;
  name: string;
  type: string; // 'imap' | 'exchange'
  imap_host: string | null;
  imap_port: number | null;
  imap_security: string | null; // 'ssl' | 'starttls' | 'none'
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_security: string | null;
  /** Exchange: service address (host or URL). */
  service_address: string | null;
  load_emails: number; // 0/1 (Exchange)
  send_emails: number; // 0/1 (Exchange)
  login_format: string; // 'manual' | 'email' | 'local-part'
  auth_method: string; // 'basic' | 'oauth2'
  oauth_client_id: string | null;
  /** The provider files sent mail in Sent itself (do not APPEND a copy). */
  provider_saves_sent: number; // 0/1
  /** Accept self-signed/untrusted certificates (on-premises servers). */
  allow_self_signed: number; // 0/1
  created_at: string;
  updated_at: string;
}

export interface MailProviderDomainsTable {
  /** Lower-case domain, e.g. 'gmail.com'. */
  domain: string;
  provider_id: string;
  /** 'seed' (shipped), 'admin' (added by an administrator), 'learned' (a user picked the provider by hand). */
  source: string;
  created_at: string;
}

export interface MailProvidersTables {
  mail_providers: MailProvidersTable;
  mail_provider_domains: MailProviderDomainsTable;
}
