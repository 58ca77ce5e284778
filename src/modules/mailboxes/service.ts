// Mailboxes (B1, B2, B6): add with credentials verified against the real servers, list, edit every
// setting, change the password (re-verified), remove (keeping or deleting loaded mail).
import type { Platform } from '../../platform/index.js';
import { fromBool, fromJson, isUniqueViolation, newId, nowIso, toBool, toJson } from '../../platform/db/index.js';
import { errors, type FieldProblem } from '../../platform/http/errors.js';
import type { ConnectionTestResult, MailProvidersService, ProviderConfig } from '../mail-providers/index.js';
import { domainOf, loginFor } from '../mail-providers/index.js';
import type { NotificationInput } from '../notifications/index.js';
import { MAX_SIGNATURE_BYTES, sanitizeSignature } from './signature.js';
import type { MailboxesTable } from './tables.js';
import type { LoadPeriod, MailboxRecord, MailboxSettings } from './types.js';

export const LOAD_PERIODS: LoadPeriod[] = ['day', '3days', 'week', 'month', '3months', '6months', 'all'];

export const passwordRef = (mailboxId: string) => `mailbox:${mailboxId}:password`;

export interface MailboxView extends MailboxRecord {
  login: string;
  providerName: string;
  statusReason: string | null;
  hasPassword: boolean;
}

export interface CreateMailboxInput {
  email: string;
  password?: string;
  providerId?: string;
  /** User name for providers whose login format is "manual". */
  login?: string;
}

export interface MailboxPatch extends Partial<MailboxSettings> {
  password?: string;
  login?: string;
}

export interface MailboxesServiceDeps {
  platform: Pick<Platform, 'db' | 'secrets' | 'jobs' | 'logger'>;
  providers: MailProvidersService;
  notify: (userId: string, input: NotificationInput) => Promise<unknown>;
}

export function recordOf(r: MailboxesTable): MailboxRecord {
  return {
    id: r.id,
    userId: r.user_id,
    email: r.email,
    providerId: r.provider_id,
    kind: r.kind as MailboxRecord['kind'],
    status: r.status as MailboxRecord['status'],
    settings: {
      loadPeriod: r.load_period as LoadPeriod,
      autoLoad: fromBool(r.auto_load),
      allFolders: fromBool(r.all_folders),
      selectedFolders: fromJson<string[]>(r.selected_folders, ['INBOX']),
      sendEnabled: fromBool(r.send_enabled),
      defaultSender: r.default_sender,
      alias: r.alias,
      useSignature: fromBool(r.use_signature),
      signatureHtml: r.signature_html,
    },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** 422 with the failing step in plain words; details carry every step for the console. */
function verificationFailed(result: ConnectionTestResult) {
  return errors.unprocessable('MAILBOX_VERIFICATION_FAILED', result.message, {
    failedStep: result.failedStep,
    imap: result.imap,
    smtp: result.smtp,
  });
}

function supportedOrThrow(cfg: ProviderConfig) {
  if (cfg.type !== 'imap') {
    throw errors.unprocessable('NOT_SUPPORTED', `Mailboxes on Exchange providers ("${cfg.name}") cannot be connected yet; choose an IMAP/SMTP provider.`);
  }
  if (cfg.authMethod !== 'basic') {
    throw errors.unprocessable('NOT_SUPPORTED', `The provider "${cfg.name}" signs in with OAuth 2.0, which is not available for mailboxes yet; an administrator can switch it to user name and password.`);
  }
}

function cleanSettings(patch: Partial<MailboxSettings>, current: MailboxSettings): MailboxSettings {
  const problems: FieldProblem[] = [];
  const next: MailboxSettings = { ...current };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as any)[k] = v;
  next.selectedFolders = [...new Set(next.selectedFolders.map((f) => f.trim()).filter(Boolean))];
  if (!next.allFolders && next.selectedFolders.length === 0) {
    problems.push({ field: 'selectedFolders', message: 'Select at least one folder, or load all folders.' });
  }
  if (patch.signatureHtml !== undefined && patch.signatureHtml !== null) {
    if (Buffer.byteLength(patch.signatureHtml) > MAX_SIGNATURE_BYTES) {
      problems.push({ field: 'signatureHtml', message: `The signature is too large (over ${MAX_SIGNATURE_BYTES / 1024} KB); use smaller images.` });
    } else {
      next.signatureHtml = sanitizeSignature(patch.signatureHtml) || null;
    }
  }
  if (next.useSignature && !next.signatureHtml) problems.push({ field: 'signatureHtml', message: 'Add a signature before turning "use signature" on.' });
  next.defaultSender = next.defaultSender?.trim().toLowerCase() || null;
  next.alias = next.alias?.trim() || null;
  if (problems.length) throw errors.validation(problems);
  return next;
}

export function createMailboxesService(deps: MailboxesServiceDeps) {
  const { db, secrets, jobs, logger } = deps.platform;
  const { providers } = deps;

  async function ownRow(userId: string, id: string): Promise<MailboxesTable> {
    const r = await db.selectFrom('mailboxes').selectAll().where('id', '=', id).executeTakeFirst();
    // Someone else's mailbox is "not found": its existence is not the caller's business.
    if (!r || r.user_id !== userId) throw errors.notFound('Mailbox', id);
    return r;
  }

  async function viewOf(r: MailboxesTable): Promise<MailboxView> {
    const [p, hasPassword] = await Promise.all([
      db.selectFrom('mail_providers').select('name').where('id', '=', r.provider_id).executeTakeFirst(),
      secrets.has(passwordRef(r.id)),
    ]);
    return { ...recordOf(r), login: r.login, providerName: p?.name ?? '', statusReason: r.status_reason, hasPassword };
  }

  async function verify(cfg: ProviderConfig, email: string, login: string, password: string): Promise<ConnectionTestResult> {
    const result = await providers.runTest(cfg, { email, password, login });
    if (!result.ok) throw verificationFailed(result);
    return result;
  }

  async function changed(mailboxId: string) {
    // Durable hand-over to the mail module (sync engine); see types.ts.
    await jobs.enqueue('mail.mailbox-changed', { mailboxId }, { attempts: 5, backoff: { type: 'exponential', delayMs: 2000 } });
  }

  return {
    async create(userId: string, input: CreateMailboxInput): Promise<MailboxView> {
      const email = input.email.trim().toLowerCase();
      const domain = domainOf(email);
      if (!domain) throw errors.validation([{ field: 'email', message: 'Enter an email address like name@example.com.' }]);
      const dup = await db.selectFrom('mailboxes').select('id').where('user_id', '=', userId).where('email', '=', email).executeTakeFirst();
      if (dup) throw errors.conflict(`You already connected ${email}.`, { mailboxId: dup.id });

      let cfg: ProviderConfig;
      let learn = false;
      if (input.providerId) {
        cfg = await providers.config(input.providerId);
        learn = true;
      } else {
        const d = await providers.detect(email);
        if (!d.provider) {
          throw errors.validation([{ field: 'providerId', message: `Could not tell which mail service ${domain} uses; choose the provider.` }], `Could not tell which mail service ${domain} uses; choose the provider.`);
        }
        cfg = await providers.config(d.provider.id);
        learn = d.source === 'mx';
      }
      supportedOrThrow(cfg);
      const login = loginFor(cfg.loginFormat, email, input.login);
      const problems: FieldProblem[] = [];
      if (!login) problems.push({ field: 'login', message: `Enter the user name for ${cfg.name}.` });
      if (!input.password) problems.push({ field: 'password', message: 'Enter the password (an app-specific password where the provider requires one).' });
      if (problems.length) throw errors.validation(problems);

      const probe = await verify(cfg, email, login!, input.password!);

      // Defaults (B1/B3): the last month, new mail loaded automatically, and only INBOX plus the
      // server's Sent folder (found via SPECIAL-USE during verification) — what a user expects to
      // see in the CRM, without pulling in Spam/Trash/archives. Everything is editable later.
      const sent = probe.imap?.sentFolder;
      const id = newId();
      const now = nowIso();
      const row: MailboxesTable = {
        id,
        user_id: userId,
        email,
        login: login!,
        provider_id: cfg.id,
        kind: cfg.type,
        status: 'active',
        status_reason: null,
        load_period: 'month',
        auto_load: 1,
        all_folders: 0,
        selected_folders: toJson(sent && sent !== 'INBOX' ? ['INBOX', sent] : ['INBOX']),
        send_enabled: 1,
        default_sender: null,
        alias: null,
        use_signature: 0,
        signature_html: null,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('mailboxes').values(row).execute();
          await secrets.put(passwordRef(id), input.password!, trx);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw errors.conflict(`You already connected ${email}.`);
        throw err;
      }
      // M3: a provider picked by hand (or suggested by MX) for an unknown domain is remembered.
      if (learn) await providers.learnDomain(domain, cfg.id);
      await changed(id);
      try {
        await deps.notify(userId, {
          kind: 'mailbox.connected',
          title: `Mailbox ${email} is connected`,
          body: `Mail from the last month is loading now; new mail will arrive automatically. You can change what is loaded and how mail is sent in the mailbox settings.`,
          links: [
            { rel: 'mail', label: 'Open mail', href: `/panel/email?mailboxId=${id}` },
            { rel: 'mailbox-settings', label: 'Mailbox settings', href: `/profile/mailboxes/${id}` },
          ],
        });
      } catch (err) {
        logger.warn({ err, mailboxId: id }, 'could not notify about a new mailbox');
      }
      return viewOf(row);
    },

    async list(userId: string): Promise<MailboxView[]> {
      const rows = await db.selectFrom('mailboxes').selectAll().where('user_id', '=', userId).orderBy('email').orderBy('id').execute();
      return Promise.all(rows.map(viewOf));
    },

    async get(userId: string, id: string): Promise<MailboxView> {
      return viewOf(await ownRow(userId, id));
    },

    async update(userId: string, id: string, patch: MailboxPatch): Promise<MailboxView> {
      const row = await ownRow(userId, id);
      const { password, login: newLogin, ...settingsPatch } = patch;
      const current = recordOf(row).settings;
      const settings = cleanSettings(settingsPatch, current);
      let login = row.login;
      let reverified = false;
      if (password !== undefined || (newLogin !== undefined && newLogin.trim() !== row.login)) {
        const cfg = await providers.config(row.provider_id);
        supportedOrThrow(cfg);
        if (newLogin !== undefined) {
          if (cfg.loginFormat !== 'manual') {
            throw errors.validation([{ field: 'login', message: `The user name of ${cfg.name} mailboxes follows the provider's login format and cannot be typed by hand.` }]);
          }
          login = newLogin.trim();
          if (!login) throw errors.validation([{ field: 'login', message: 'Enter the user name.' }]);
        }
        const pw = password ?? (await secrets.get(passwordRef(id)));
        if (!pw) throw errors.validation([{ field: 'password', message: 'Enter the password.' }]);
        await verify(cfg, row.email, login, pw);
        reverified = true;
        if (password !== undefined) await secrets.put(passwordRef(id), password);
      }
      const next: Partial<MailboxesTable> = {
        login,
        load_period: settings.loadPeriod,
        auto_load: toBool(settings.autoLoad),
        all_folders: toBool(settings.allFolders),
        selected_folders: toJson(settings.selectedFolders),
        send_enabled: toBool(settings.sendEnabled),
        default_sender: settings.defaultSender,
        alias: settings.alias,
        use_signature: toBool(settings.useSignature),
        signature_html: settings.signatureHtml,
        updated_at: nowIso(),
        ...(reverified ? { status: 'active', status_reason: null } : {}),
      };
      await db.updateTable('mailboxes').set(next).where('id', '=', id).execute();
      // Send settings are read at send time; only what the sync uses needs the mail module's attention.
      const syncRelevant =
        reverified ||
        settings.loadPeriod !== current.loadPeriod ||
        settings.autoLoad !== current.autoLoad ||
        settings.allFolders !== current.allFolders ||
        JSON.stringify(settings.selectedFolders) !== JSON.stringify(current.selectedFolders);
      if (syncRelevant) await changed(id);
      return viewOf({ ...row, ...next } as MailboxesTable);
    },

    async remove(userId: string, id: string, deleteMail: boolean): Promise<void> {
      const row = await ownRow(userId, id);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('mailboxes').where('id', '=', id).execute();
        await secrets.deletePrefix(`mailbox:${id}:`, trx);
        // Kept mail stays readable by its owner (mail list, timelines) after the mailbox is gone.
        if (!deleteMail) await trx.insertInto('retired_mailboxes').values({ id, user_id: row.user_id, email: row.email, removed_at: nowIso() }).execute();
      });
      // The mail module stops the sync and keeps or purges the loaded mail (B6).
      await jobs.enqueue('mail.mailbox-removed', { mailboxId: id, deleteMail }, { attempts: 5, backoff: { type: 'exponential', delayMs: 2000 } });
    },
  };
}

export type MailboxesService = ReturnType<typeof createMailboxesService>;
