// System settings registry (P3): typed values with defaults, optional per-user values, secrets
// kept in the SecretStore (write-only), files in the FileStore.
import type { DB } from '../../schema.js';
import type { SecretStore } from '../../platform/crypto/secret-store.js';
import type { FileStore } from '../../platform/files/index.js';
import { fromJson, nowIso, toJson } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { SETTINGS, SETTINGS_BY_CODE, checkValue, type FileValue, type SettingDefinition } from './registry.js';

export interface SettingView {
  code: string;
  name: string;
  description: string;
  type: SettingDefinition['type'];
  perUser: boolean;
  /** null for secrets (write-only) and when unset. Files: { fileName, contentType, size }. */
  value: unknown;
  hasValue: boolean;
  isDefault: boolean;
  defaultValue: unknown;
  /** Set when a user value was asked for and exists. */
  userValue?: unknown;
}

export interface SettingsService {
  get<T = unknown>(code: string, userId?: string): Promise<T>;
  /** Decrypted secret setting, or null when unset. For server-side use only. */
  getSecret(code: string): Promise<string | null>;
  set(code: string, value: unknown, opts: { actorId: string | null; userId?: string }): Promise<SettingView>;
  setFile(code: string, file: { bytes: Buffer; fileName: string; contentType: string }, actorId: string): Promise<SettingView>;
  getFile(code: string): Promise<{ bytes: Buffer; fileName: string; contentType: string } | null>;
  view(code: string, userId?: string): Promise<SettingView>;
  list(opts: { readableByAllOnly: boolean }): Promise<SettingView[]>;
  definition(code: string): SettingDefinition;
}

export function createSettingsService(deps: { db: DB; secrets: SecretStore; files: FileStore; siteUrl: string }): SettingsService {
  const { db, secrets, files } = deps;

  function definition(code: string): SettingDefinition {
    const def = SETTINGS_BY_CODE.get(code);
    if (!def) throw errors.notFound('Setting', code);
    return def;
  }

  function defaultOf(def: SettingDefinition): unknown {
    return typeof def.default === 'function' ? (def.default as (c: { siteUrl: string }) => unknown)({ siteUrl: deps.siteUrl }) : def.default;
  }

  async function systemValue(code: string): Promise<{ exists: boolean; value: unknown }> {
    const row = await db.selectFrom('system_settings').select('value').where('code', '=', code).executeTakeFirst();
    if (!row || row.value === null) return { exists: false, value: undefined };
    return { exists: true, value: fromJson(row.value, null) };
  }

  async function userValue(code: string, userId: string): Promise<{ exists: boolean; value: unknown }> {
    const row = await db.selectFrom('user_settings').select('value').where('code', '=', code).where('user_id', '=', userId).executeTakeFirst();
    return row ? { exists: true, value: fromJson(row.value, null) } : { exists: false, value: undefined };
  }

  async function view(code: string, userId?: string): Promise<SettingView> {
    const def = definition(code);
    const base = { code, name: def.name, description: def.description, type: def.type, perUser: def.perUser };
    if (def.type === 'secret') {
      const has = await secrets.has(`setting:${code}`);
      return { ...base, value: null, hasValue: has, isDefault: !has, defaultValue: null };
    }
    const sys = await systemValue(code);
    let value = sys.exists ? sys.value : defaultOf(def);
    if (def.type === 'file' && value) {
      const f = value as FileValue;
      value = { fileName: f.fileName, contentType: f.contentType, size: f.size };
    }
    const out: SettingView = { ...base, value, hasValue: sys.exists, isDefault: !sys.exists, defaultValue: defaultOf(def) };
    if (userId && def.perUser) {
      const u = await userValue(code, userId);
      if (u.exists) out.userValue = u.value;
    }
    return out;
  }

  const service: SettingsService = {
    definition,
    view,

    async get<T>(code: string, userId?: string): Promise<T> {
      const def = definition(code);
      if (def.type === 'secret') throw new Error(`setting ${code} is a secret; use getSecret`);
      if (userId && def.perUser) {
        const u = await userValue(code, userId);
        if (u.exists) return u.value as T;
      }
      const sys = await systemValue(code);
      return (sys.exists ? sys.value : defaultOf(def)) as T;
    },

    async getSecret(code) {
      const def = definition(code);
      if (def.type !== 'secret') throw new Error(`setting ${code} is not a secret`);
      return secrets.get(`setting:${code}`);
    },

    async set(code, value, opts) {
      const def = definition(code);
      const now = nowIso();
      if (opts.userId && !def.perUser) throw errors.validation([{ field: 'userId', message: `${code} has no per-user values.` }]);
      if (value !== null) {
        const problem = checkValue(def, value);
        if (problem) throw errors.validation([{ field: 'value', message: `${code} ${problem}.` }]);
      }
      if (opts.userId) {
        const user = await db.selectFrom('users').select('id').where('id', '=', opts.userId).executeTakeFirst();
        if (!user) throw errors.validation([{ field: 'userId', message: 'Unknown user.' }]);
        if (value === null) {
          await db.deleteFrom('user_settings').where('code', '=', code).where('user_id', '=', opts.userId).execute();
        } else {
          await db
            .insertInto('user_settings')
            .values({ code, user_id: opts.userId, value: toJson(value), updated_at: now })
            .onConflict((oc) => oc.columns(['code', 'user_id']).doUpdateSet({ value: toJson(value), updated_at: now }))
            .execute();
        }
        return view(code, opts.userId);
      }
      if (def.type === 'secret') {
        if (value === null || value === '') await secrets.delete(`setting:${code}`);
        else await secrets.put(`setting:${code}`, value as string);
        return view(code);
      }
      if (def.type === 'file' && value === null) {
        const old = await systemValue(code);
        if (old.exists && old.value) await files.delete((old.value as FileValue).fileKey).catch(() => {});
      }
      const stored = value === null ? null : toJson(value);
      await db
        .insertInto('system_settings')
        .values({ code, value: stored, updated_at: now, updated_by: opts.actorId })
        .onConflict((oc) => oc.column('code').doUpdateSet({ value: stored, updated_at: now, updated_by: opts.actorId }))
        .execute();
      return view(code);
    },

    async setFile(code, file, actorId) {
      const def = definition(code);
      if (def.type !== 'file') throw errors.validation([{ field: 'code', message: `${code} is not a file setting.` }]);
      const old = await systemValue(code);
      const stored = await files.put(file.bytes, 'settings');
      const value: FileValue = { fileKey: stored.key, fileName: file.fileName, contentType: file.contentType, size: stored.size };
      const now = nowIso();
      await db
        .insertInto('system_settings')
        .values({ code, value: toJson(value), updated_at: now, updated_by: actorId })
        .onConflict((oc) => oc.column('code').doUpdateSet({ value: toJson(value), updated_at: now, updated_by: actorId }))
        .execute();
      if (old.exists && old.value) await files.delete((old.value as FileValue).fileKey).catch(() => {});
      return view(code);
    },

    async getFile(code) {
      const def = definition(code);
      if (def.type !== 'file') return null;
      const sys = await systemValue(code);
      if (!sys.exists || !sys.value) return null;
      const f = sys.value as FileValue;
      return { bytes: await files.get(f.fileKey), fileName: f.fileName, contentType: f.contentType };
    },

    async list({ readableByAllOnly }) {
      const defs = readableByAllOnly ? SETTINGS.filter((s) => s.readableByAll) : SETTINGS;
      return Promise.all(defs.map((d) => view(d.code)));
    },
  };
  return service;
}
