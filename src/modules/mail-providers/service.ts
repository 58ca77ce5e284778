// Provider catalog (M1, M2, M4), domain directory and detection (M3), connection test (M5).
import type { DB } from '../../schema.js';
import type { SecretStore } from '../../platform/crypto/secret-store.js';
import type { JobQueue } from '../../platform/jobs/types.js';
import { containsCi, fromBool, isForeignKeyViolation, isUniqueViolation, newId, nowIso, toBool, startsWith } from '../../platform/db/index.js';
import { errors, type FieldProblem } from '../../platform/http/errors.js';
import { probeHttps, probeImap, probeSmtp, type ProbeOptions, type ProbeResult } from '../../connectors/mail-probe/index.js';
import type { Endpoint, LoginFormat, Security } from '../mailboxes/types.js';
import { normalizeEndpoint, normalizeHost, type EndpointInput } from './endpoints.js';
import { suggestByMx, systemMxResolver, type MxResolver } from './mx.js';
import type { MailProvidersTable } from './tables.js';

export type ProviderType = 'imap' | 'exchange';
export type AuthMethod = 'basic' | 'oauth2';

export interface ProviderInput {
  name: string;
  type: ProviderType;
  imap?: EndpointInput | null;
  smtp?: EndpointInput | null;
  exchange?: { serviceAddress?: string | null; loadEmails?: boolean; sendEmails?: boolean } | null;
  loginFormat?: LoginFormat;
  authMethod?: AuthMethod;
  clientId?: string | null;
  /** Write-only; stored in the SecretStore. */
  clientSecret?: string | null;
  providerSavesSent?: boolean;
  allowSelfSigned?: boolean;
  /** Domains to map to this provider (create only; use the domain routes later). */
  domains?: string[];
}

export type ProviderPatch = Partial<Omit<ProviderInput, 'domains'>>;

export interface ProviderView {
  id: string;
  key: string | null;
  name: string;
  type: ProviderType;
  imap: Endpoint | null;
  smtp: Endpoint | null;
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
  createdAt: string;
  updatedAt: string;
}

/** What the mailboxes module needs to connect (no secrets; basic auth uses the mailbox password). */
export interface ProviderConfig {
  id: string;
  name: string;
  type: ProviderType;
  imap: Endpoint | null;
  smtp: Endpoint | null;
  serviceAddress: string | null;
  loginFormat: LoginFormat;
  authMethod: AuthMethod;
  providerSavesSent: boolean;
  allowSelfSigned: boolean;
}

export interface DomainView {
  domain: string;
  providerId: string;
  providerName: string;
  source: 'seed' | 'admin' | 'learned';
  createdAt: string;
}

export interface DetectResult {
  provider: ProviderView | null;
  authMethod: AuthMethod | null;
  source: 'directory' | 'mx' | null;
  domain: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  message: string;
  failedStep: string | null;
  imap: ProbeResult | null;
  smtp: ProbeResult | null;
  exchange: ProbeResult | null;
}

export interface TestCredentials {
  email?: string;
  password?: string;
  /** The user name when the provider's login format is "manual". */
  login?: string;
}

const secretRef = (id: string) => `mail-provider:${id}:client-secret`;

const DOMAIN_RE = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

export function normalizeDomain(raw: string): string | null {
  const d = raw.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
  return DOMAIN_RE.test(d) ? d : null;
}

export function domainOf(email: string): string | null {
  const at = email.lastIndexOf('@');
  return at > 0 ? normalizeDomain(email.slice(at + 1)) : null;
}

/** Applies the provider's login format (M1): full address, the part before "@", or what the user typed. */
export function loginFor(format: LoginFormat, email: string, manual?: string | null): string | null {
  if (format === 'email') return email;
  if (format === 'local-part') return email.slice(0, email.lastIndexOf('@'));
  return manual && manual.trim() ? manual.trim() : null;
}

function endpointOf(host: string | null, port: number | null, security: string | null): Endpoint | null {
  return host && port && security ? { host, port, security: security as Security } : null;
}

export function configOf(r: MailProvidersTable): ProviderConfig {
  return {
    id: r.id,
    name: r.name,
    type: r.type as ProviderType,
    imap: endpointOf(r.imap_host, r.imap_port, r.imap_security),
    smtp: endpointOf(r.smtp_host, r.smtp_port, r.smtp_security),
    serviceAddress: r.service_address,
    loginFormat: r.login_format as LoginFormat,
    authMethod: r.auth_method as AuthMethod,
    providerSavesSent: fromBool(r.provider_saves_sent),
    allowSelfSigned: fromBool(r.allow_self_signed),
  };
}

function serviceAddressOk(v: string): boolean {
  if (/^https?:\/\//i.test(v)) {
    try {
      const u = new URL(v);
      return !!normalizeHost(u.hostname);
    } catch {
      return false;
    }
  }
  return !!normalizeHost(v);
}

type RowFields = Omit<MailProvidersTable, 'id' | 'key' | 'created_at' | 'updated_at'>;

/** Validates a complete provider description; throws 400 VALIDATION_FAILED listing every problem. */
function resolveFields(input: ProviderInput): RowFields {
  const problems: FieldProblem[] = [];
  const name = (input.name ?? '').trim();
  if (!name) problems.push({ field: 'name', message: 'The service name is required.' });
  const authMethod = input.authMethod ?? 'basic';
  const fields: RowFields = {
    name,
    type: input.type,
    imap_host: null,
    imap_port: null,
    imap_security: null,
    smtp_host: null,
    smtp_port: null,
    smtp_security: null,
    service_address: null,
    load_emails: 1,
    send_emails: 1,
    login_format: input.loginFormat ?? 'email',
    auth_method: authMethod,
    oauth_client_id: authMethod === 'oauth2' ? (input.clientId ?? '').trim() || null : null,
    provider_saves_sent: toBool(!!input.providerSavesSent),
    allow_self_signed: toBool(!!input.allowSelfSigned),
  };
  if (input.type === 'imap') {
    const inc = normalizeEndpoint('imap', input.imap ?? {}, 'imap', problems);
    const out = normalizeEndpoint('smtp', input.smtp ?? {}, 'smtp', problems);
    if (inc) Object.assign(fields, { imap_host: inc.host, imap_port: inc.port, imap_security: inc.security });
    if (out) Object.assign(fields, { smtp_host: out.host, smtp_port: out.port, smtp_security: out.security });
  } else {
    const ex = input.exchange ?? {};
    const addr = (ex.serviceAddress ?? '').trim();
    if (!addr) problems.push({ field: 'exchange.serviceAddress', message: 'The service address is required (e.g. outlook.office365.com or your Exchange server).' });
    else if (!serviceAddressOk(addr)) problems.push({ field: 'exchange.serviceAddress', message: 'Enter a server name like mail.example.com or an https:// address.' });
    const load = ex.loadEmails ?? true;
    const send = ex.sendEmails ?? true;
    if (!load && !send) problems.push({ field: 'exchange.loadEmails', message: 'Turn on "load emails", "send emails" or both.' });
    Object.assign(fields, { service_address: addr || null, load_emails: toBool(load), send_emails: toBool(send) });
  }
  if (authMethod === 'oauth2' && !fields.oauth_client_id) {
    problems.push({ field: 'clientId', message: 'The application (client) ID is required for OAuth 2.0.' });
  }
  if (problems.length) throw errors.validation(problems);
  return fields;
}

function inputOf(r: MailProvidersTable): ProviderInput {
  return {
    name: r.name,
    type: r.type as ProviderType,
    imap: r.imap_host ? { host: r.imap_host, port: r.imap_port, security: r.imap_security as Security } : null,
    smtp: r.smtp_host ? { host: r.smtp_host, port: r.smtp_port, security: r.smtp_security as Security } : null,
    exchange: r.service_address ? { serviceAddress: r.service_address, loadEmails: fromBool(r.load_emails), sendEmails: fromBool(r.send_emails) } : null,
    loginFormat: r.login_format as LoginFormat,
    authMethod: r.auth_method as AuthMethod,
    clientId: r.oauth_client_id,
    providerSavesSent: fromBool(r.provider_saves_sent),
    allowSelfSigned: fromBool(r.allow_self_signed),
  };
}

/** A patched endpoint: given fields win; a port without security (or vice versa) is completed from the usual pair, not from the old value. */
function mergeEndpoint(old: EndpointInput | null | undefined, patch: EndpointInput | null | undefined): EndpointInput | null | undefined {
  if (patch === undefined) return old;
  if (patch === null) return null;
  const host = patch.host ?? old?.host ?? null;
  const touched = patch.port != null || patch.security != null;
  return touched ? { host, port: patch.port ?? null, security: patch.security ?? null } : { host, port: old?.port ?? null, security: old?.security ?? null };
}

export interface MailProvidersServiceDeps {
  db: DB;
  secrets: SecretStore;
  /** When given, mailboxes on a provider whose connection settings change are handed to the mail module again. */
  jobs?: Pick<JobQueue, 'enqueue'>;
  resolveMx?: MxResolver;
  probeOptions?: ProbeOptions;
}

export function createMailProvidersService(deps: MailProvidersServiceDeps) {
  const { db, secrets } = deps;
  let resolveMx: MxResolver = deps.resolveMx ?? systemMxResolver();

  async function rowOf(id: string): Promise<MailProvidersTable> {
    const r = await db.selectFrom('mail_providers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw errors.notFound('Mail provider', id);
    return r;
  }

  async function viewsOf(rows: MailProvidersTable[]): Promise<ProviderView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [domains, counts, secretFlags] = await Promise.all([
      db.selectFrom('mail_provider_domains').select(['domain', 'provider_id']).where('provider_id', 'in', ids).orderBy('domain').execute(),
      db.selectFrom('mailboxes').select(['provider_id', (eb) => eb.fn.countAll<number>().as('n')]).where('provider_id', 'in', ids).groupBy('provider_id').execute(),
      Promise.all(rows.map((r) => (r.auth_method === 'oauth2' ? secrets.has(secretRef(r.id)) : Promise.resolve(false)))),
    ]);
    return rows.map((r, i) => {
      const cfg = configOf(r);
      return {
        id: r.id,
        key: r.key,
        name: r.name,
        type: cfg.type,
        imap: cfg.imap,
        smtp: cfg.smtp,
        exchange: r.type === 'exchange' ? { serviceAddress: r.service_address ?? '', loadEmails: fromBool(r.load_emails), sendEmails: fromBool(r.send_emails) } : null,
        loginFormat: cfg.loginFormat,
        authMethod: cfg.authMethod,
        clientId: r.oauth_client_id,
        hasClientSecret: secretFlags[i],
        providerSavesSent: cfg.providerSavesSent,
        allowSelfSigned: cfg.allowSelfSigned,
        preconfigured: r.key !== null,
        domains: domains.filter((d) => d.provider_id === r.id).map((d) => d.domain),
        mailboxCount: Number(counts.find((c) => c.provider_id === r.id)?.n ?? 0),
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      };
    });
  }

  async function view(id: string): Promise<ProviderView> {
    return (await viewsOf([await rowOf(id)]))[0];
  }

  function mapUnique(err: unknown, name: string): never {
    if (isUniqueViolation(err)) throw errors.conflict(`A mail provider named "${name}" already exists.`, { field: 'name' });
    throw err;
  }

  async function insertDomains(trx: DB, providerId: string, domains: string[], source: DomainView['source']) {
    for (const d of domains) {
      const existing = await trx
        .selectFrom('mail_provider_domains')
        .innerJoin('mail_providers', 'mail_providers.id', 'mail_provider_domains.provider_id')
        .select(['mail_providers.name'])
        .where('domain', '=', d)
        .executeTakeFirst();
      if (existing) throw errors.conflict(`The domain ${d} already belongs to the provider "${existing.name}".`, { domain: d });
      await trx.insertInto('mail_provider_domains').values({ domain: d, provider_id: providerId, source, created_at: nowIso() }).execute();
    }
  }

  function normalizeDomains(list: string[] | undefined): string[] {
    const problems: FieldProblem[] = [];
    const out = new Set<string>();
    (list ?? []).forEach((raw, i) => {
      const d = normalizeDomain(raw);
      if (!d) problems.push({ field: `domains.${i}`, message: `"${raw.slice(0, 100)}" is not a domain like example.com.` });
      else out.add(d);
    });
    if (problems.length) throw errors.validation(problems);
    return [...out];
  }

  async function runTest(cfg: ProviderConfig, creds: TestCredentials): Promise<ConnectionTestResult> {
    const opts = deps.probeOptions ?? {};
    let user: string | undefined;
    if (creds.email && cfg.authMethod === 'basic') {
      user = loginFor(cfg.loginFormat, creds.email, creds.login) ?? undefined;
      if (!user) throw errors.validation([{ field: 'login', message: 'This provider needs the user name entered by hand.' }]);
    }
    const password = cfg.authMethod === 'basic' && user ? creds.password : undefined;
    const common = { user: password !== undefined ? user : undefined, password, allowSelfSigned: cfg.allowSelfSigned };
    let imap: ProbeResult | null = null;
    let smtp: ProbeResult | null = null;
    let exchange: ProbeResult | null = null;
    if (cfg.type === 'imap') {
      [imap, smtp] = await Promise.all([probeImap({ ...cfg.imap!, ...common }, opts), probeSmtp({ ...cfg.smtp!, ...common }, opts)]);
    } else {
      const addr = cfg.serviceAddress ?? '';
      const url = /^https?:\/\//i.test(addr) ? new URL(addr) : null;
      const host = url ? url.hostname.replace(/^\[(.*)\]$/, '$1') : addr;
      const port = url?.port ? Number(url.port) : 443;
      exchange = await probeHttps({ host, port, allowSelfSigned: cfg.allowSelfSigned }, opts);
    }
    const failed = [imap, smtp, exchange].find((r) => r && !r.ok) ?? null;
    const okMessage =
      cfg.type === 'exchange'
        ? exchange!.message
        : common.user
          ? 'Signed in to both the incoming (IMAP) and the outgoing (SMTP) server.'
          : 'Both servers answered; the sign-in was not tested (give an email and password to test it).';
    return {
      ok: !failed,
      message: failed ? `${failed.protocol === 'imap' ? 'Incoming (IMAP)' : failed.protocol === 'smtp' ? 'Outgoing (SMTP)' : 'Exchange'}: ${failed.message}` : okMessage,
      failedStep: failed?.failedStep ?? null,
      imap,
      smtp,
      exchange,
    };
  }

  return {
    /** Tests swap in a fake resolver (the machine may have no internet). */
    useMxResolver(fn: MxResolver) {
      resolveMx = fn;
    },

    async list(opts: { q?: string; limit: number; after?: { k: string; id: string } | null }): Promise<ProviderView[]> {
      let q = db.selectFrom('mail_providers').selectAll();
      if (opts.q) q = q.where(containsCi('name', opts.q));
      if (opts.after) {
        const { k, id } = opts.after;
        q = q.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(k, id)));
      }
      return viewsOf(await q.orderBy('name').orderBy('id').limit(opts.limit).execute());
    },

    get: view,

    async config(id: string): Promise<ProviderConfig> {
      return configOf(await rowOf(id));
    },

    async create(input: ProviderInput): Promise<ProviderView> {
      const fields = resolveFields(input);
      if (fields.auth_method === 'oauth2' && !input.clientSecret) {
        throw errors.validation([{ field: 'clientSecret', message: 'The client secret is required for OAuth 2.0.' }]);
      }
      const domains = normalizeDomains(input.domains);
      const id = newId();
      const now = nowIso();
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('mail_providers').values({ id, key: null, ...fields, created_at: now, updated_at: now }).execute();
          await insertDomains(trx, id, domains, 'admin');
          if (fields.auth_method === 'oauth2') await secrets.put(secretRef(id), input.clientSecret!, trx);
        });
      } catch (err) {
        mapUnique(err, fields.name);
      }
      return view(id);
    },

    async update(id: string, patch: ProviderPatch): Promise<ProviderView> {
      const row = await rowOf(id);
      const old = inputOf(row);
      const merged: ProviderInput = {
        ...old,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
        imap: mergeEndpoint(old.imap, patch.imap),
        smtp: mergeEndpoint(old.smtp, patch.smtp),
        exchange: patch.exchange === undefined ? old.exchange : { ...old.exchange, ...patch.exchange },
      } as ProviderInput;
      if (merged.type === 'exchange' && patch.type === 'exchange' && old.type !== 'exchange' && !patch.exchange) merged.exchange = null;
      const fields = resolveFields(merged);
      const hadSecret = await secrets.has(secretRef(id));
      if (fields.auth_method === 'oauth2' && !patch.clientSecret && !hadSecret) {
        throw errors.validation([{ field: 'clientSecret', message: 'The client secret is required for OAuth 2.0.' }]);
      }
      try {
        await db.transaction().execute(async (trx) => {
          await trx.updateTable('mail_providers').set({ ...fields, updated_at: nowIso() }).where('id', '=', id).execute();
          if (fields.auth_method === 'oauth2' && patch.clientSecret) await secrets.put(secretRef(id), patch.clientSecret, trx);
          if (fields.auth_method !== 'oauth2' && hadSecret) await secrets.delete(secretRef(id), trx);
        });
      } catch (err) {
        mapUnique(err, fields.name);
      }
      // Live sync sessions hold the old server settings: have the mail module reconnect them.
      const connectionKeys: Array<keyof RowFields> = ['type', 'imap_host', 'imap_port', 'imap_security', 'smtp_host', 'smtp_port', 'smtp_security', 'service_address', 'login_format', 'auth_method', 'allow_self_signed', 'provider_saves_sent'];
      if (deps.jobs && connectionKeys.some((k) => String(fields[k]) !== String(row[k]))) {
        const users = await db.selectFrom('mailboxes').select('id').where('provider_id', '=', id).execute();
        for (const m of users) await deps.jobs.enqueue('mail.mailbox-changed', { mailboxId: m.id }, { attempts: 5, backoff: { type: 'exponential', delayMs: 2000 } });
      }
      return view(id);
    },

    async remove(id: string): Promise<void> {
      const row = await rowOf(id);
      const used = await db.selectFrom('mailboxes').select((eb) => eb.fn.countAll<number>().as('n')).where('provider_id', '=', id).executeTakeFirst();
      const n = Number(used?.n ?? 0);
      const refuse = (count: number) =>
        errors.conflict(
          `The provider "${row.name}" cannot be deleted: ${count === 1 ? '1 mailbox uses' : `${count} mailboxes use`} it. Remove those mailboxes or move them to another provider first.`,
          { mailboxCount: count },
        );
      if (n > 0) throw refuse(n);
      try {
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('mail_provider_domains').where('provider_id', '=', id).execute();
          await trx.deleteFrom('mail_providers').where('id', '=', id).execute();
          await secrets.delete(secretRef(id), trx);
        });
      } catch (err) {
        // A mailbox was added between the count and the delete: the foreign key refuses.
        if (isForeignKeyViolation(err)) throw refuse(1);
        throw err;
      }
    },

    // --- domain directory (M3) ---

    async listDomains(opts: { providerId?: string; q?: string; limit: number; after?: string | null }): Promise<DomainView[]> {
      let q = db
        .selectFrom('mail_provider_domains')
        .innerJoin('mail_providers', 'mail_providers.id', 'mail_provider_domains.provider_id')
        .select(['domain', 'provider_id', 'mail_providers.name as provider_name', 'source', 'mail_provider_domains.created_at']);
      if (opts.providerId) q = q.where('provider_id', '=', opts.providerId);
      if (opts.q) q = q.where(startsWith('domain', opts.q.toLowerCase()));
      if (opts.after) q = q.where('domain', '>', opts.after);
      const rows = await q.orderBy('domain').limit(opts.limit).execute();
      return rows.map((r) => ({ domain: r.domain, providerId: r.provider_id, providerName: r.provider_name, source: r.source as DomainView['source'], createdAt: r.created_at }));
    },

    async addDomain(rawDomain: string, providerId: string, source: DomainView['source'] = 'admin'): Promise<DomainView> {
      const domain = normalizeDomain(rawDomain);
      if (!domain) throw errors.validation([{ field: 'domain', message: 'Enter a domain like example.com.' }]);
      const provider = await rowOf(providerId);
      try {
        await db.transaction().execute((trx) => insertDomains(trx, providerId, [domain], source));
      } catch (err) {
        if (isUniqueViolation(err)) throw errors.conflict(`The domain ${domain} is already in the directory.`, { domain });
        throw err;
      }
      return { domain, providerId, providerName: provider.name, source, createdAt: nowIso() };
    },

    /** M3: a user picked a provider by hand for a domain the directory does not know. Never overrides. */
    async learnDomain(rawDomain: string, providerId: string): Promise<boolean> {
      const domain = normalizeDomain(rawDomain);
      if (!domain) return false;
      try {
        const r = await db
          .insertInto('mail_provider_domains')
          .values({ domain, provider_id: providerId, source: 'learned', created_at: nowIso() })
          .onConflict((oc) => oc.column('domain').doNothing())
          .executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
      } catch {
        return false;
      }
    },

    async removeDomain(rawDomain: string): Promise<void> {
      const domain = normalizeDomain(rawDomain);
      if (!domain) throw errors.validation([{ field: 'domain', message: 'Enter a domain like example.com.' }]);
      const r = await db.deleteFrom('mail_provider_domains').where('domain', '=', domain).executeTakeFirst();
      if (Number(r.numDeletedRows ?? 0) === 0) throw errors.notFound('Domain', domain);
    },

    async detect(email: string): Promise<DetectResult> {
      const domain = domainOf(email);
      if (!domain) throw errors.validation([{ field: 'email', message: 'Enter an email address like name@example.com.' }]);
      const hit = await db.selectFrom('mail_provider_domains').select('provider_id').where('domain', '=', domain).executeTakeFirst();
      if (hit) {
        const p = await view(hit.provider_id);
        return { provider: p, authMethod: p.authMethod, source: 'directory', domain };
      }
      const key = await suggestByMx(resolveMx, domain);
      if (key) {
        const row = await db.selectFrom('mail_providers').selectAll().where('key', '=', key).executeTakeFirst();
        if (row) {
          const [p] = await viewsOf([row]);
          return { provider: p, authMethod: p.authMethod, source: 'mx', domain };
        }
      }
      return { provider: null, authMethod: null, source: null, domain };
    },

    // --- connection test (M5) ---

    async test(id: string, creds: TestCredentials): Promise<ConnectionTestResult> {
      return runTest(configOf(await rowOf(id)), creds);
    },

    async testUnsaved(input: ProviderInput, creds: TestCredentials): Promise<ConnectionTestResult> {
      const fields = resolveFields(input);
      return runTest(configOf({ ...fields, id: 'unsaved', key: null, created_at: '', updated_at: '' }), creds);
    },

    /** Probes IMAP + SMTP of a provider with a mailbox's credentials (used before a mailbox is saved). */
    runTest,
  };
}

export type MailProvidersService = ReturnType<typeof createMailProvidersService>;
