// Accounts (companies): name, domain/website, phones, owner.
import { containsCi, fromJson, newId, nowIso, toJson } from '../../platform/db/index.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { CrmAccountsTable } from './tables.js';
import { accessFilter, type AccessUser } from './access.js';
import {
  assertUsers,
  deleteRecordLinks,
  diffFields,
  loadApplicableTags,
  notFound,
  recordEvent,
  requireAccess,
  taggedWith,
  setRecordTags,
  tagsOf,
  withPrimary,
  type CrmContext,
} from './context.js';
import { accountCreate, accountPatch, parseInput, type AccountView } from './schemas.js';

export interface AccountListQuery {
  q?: string;
  tagId?: string;
  ownerId?: string;
  domain?: string;
  limit: number;
  cursor?: string;
}

const NOBODY: AccessUser = { id: '', roleIds: [], operations: [] };

/** "https://www.Acme.com/x" or "Acme.com" → "acme.com"; null when nothing host-like is left. */
export function normalizeDomain(v: string | null | undefined): string | null {
  if (!v) return null;
  const host = v.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[/?#].*$/, '').replace(/^www\./, '');
  return host || null;
}

export function createAccountsService(ctx: CrmContext) {
  const { db } = ctx;

  async function views(user: AccessUser, rows: CrmAccountsTable[]): Promise<AccountView[]> {
    const tags = await tagsOf(db, user, 'account', rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      domain: r.domain,
      website: r.website,
      phones: fromJson<{ phone: string; label: string | null; isPrimary: boolean }[]>(r.phones, []),
      ownerId: r.owner_id,
      notes: r.notes,
      tags: tags.get(r.id) ?? [],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async function get(id: string, user?: AccessUser): Promise<AccountView> {
    if (user) await requireAccess(ctx, user, 'account', id);
    return present(id, user);
  }

  /** The record as `user` sees it, without the access check: right after the user wrote it, even
   * when the write handed it to another owner (the writer must still get the result). */
  async function present(id: string, user?: AccessUser): Promise<AccountView> {
    const row = await db.selectFrom('crm_accounts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('account', id);
    return (await views(user?.id ? user : NOBODY, [row]))[0];
  }

  function phonesJson(list: { phone: string; label?: string | null; isPrimary?: boolean }[]) {
    return toJson(withPrimary(list, 'phones').map((p) => ({ phone: p.phone, label: p.label ?? null, isPrimary: p.isPrimary })));
  }

  async function create(user: AccessUser, raw: unknown): Promise<AccountView> {
    const input = parseInput(accountCreate, raw);
    if (input.ownerId) await assertUsers(db, [input.ownerId], 'ownerId');
    const tags = await loadApplicableTags(db, user, input.tagIds ?? []);
    const phones = phonesJson(input.phones ?? []);
    const id = newId();
    const now = nowIso();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('crm_accounts')
        .values({
          id,
          name: input.name,
          name_lower: input.name.toLowerCase(),
          domain: normalizeDomain(input.domain ?? input.website),
          website: input.website ?? null,
          phones,
          notes: input.notes ?? null,
          owner_id: input.ownerId ?? user.id,
          created_by: user.id || null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await setRecordTags(trx, user, 'account', id, tags);
      await recordEvent(trx, 'account', id, 'created', user.id || null, { name: input.name });
    });
    return present(id, user);
  }

  async function update(user: AccessUser, id: string, raw: unknown): Promise<AccountView> {
    const patch = parseInput(accountPatch, raw);
    await requireAccess(ctx, user, 'account', id, patch.ownerId !== undefined ? 'owner' : 'edit');
    const before = await db.selectFrom('crm_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    if (patch.ownerId) await assertUsers(db, [patch.ownerId], 'ownerId');
    const tags = patch.tagIds ? await loadApplicableTags(db, user, patch.tagIds) : null;
    const phones = patch.phones ? phonesJson(patch.phones) : undefined;
    await db.transaction().execute(async (trx) => {
      const set: Partial<CrmAccountsTable> = { updated_at: nowIso() };
      if (patch.name !== undefined) Object.assign(set, { name: patch.name, name_lower: patch.name.toLowerCase() });
      if (patch.domain !== undefined) set.domain = normalizeDomain(patch.domain);
      if (patch.website !== undefined) set.website = patch.website;
      if (phones !== undefined) set.phones = phones;
      if (patch.notes !== undefined) set.notes = patch.notes;
      if (patch.ownerId !== undefined) set.owner_id = patch.ownerId;
      await trx.updateTable('crm_accounts').set(set).where('id', '=', id).execute();
      if (tags) await setRecordTags(trx, user, 'account', id, tags);
      const changes = diffFields(
        { name: before.name, domain: before.domain, website: before.website, notes: before.notes, ownerId: before.owner_id, phones: fromJson(before.phones, []) },
        { name: patch.name, domain: set.domain, website: patch.website, notes: patch.notes, ownerId: patch.ownerId, phones: phones ? fromJson(phones, []) : undefined },
        ['notes'],
      );
      if (changes.length) await recordEvent(trx, 'account', id, 'updated', user.id, { changes });
    });
    return present(id, user);
  }

  async function remove(user: AccessUser, id: string) {
    await requireAccess(ctx, user, 'account', id, 'edit');
    await db.transaction().execute(async (trx) => {
      await deleteRecordLinks(trx, 'account', id, user.id);
      await trx.deleteFrom('crm_accounts').where('id', '=', id).execute();
    });
  }

  async function list(user: AccessUser, query: AccountListQuery): Promise<Page<AccountView>> {
    const after = decodeCursor(query.cursor);
    let q = db
      .selectFrom('crm_accounts')
      .selectAll()
      .where(accessFilter(user, 'account', { id: 'crm_accounts.id', owner: 'crm_accounts.owner_id' }))
      .orderBy('name_lower')
      .orderBy('id')
      .limit(query.limit + 1);
    if (after) q = q.where((eb) => eb(eb.refTuple('name_lower', 'id'), '>', eb.tuple(String(after.k), after.id)));
    if (query.ownerId) q = q.where('owner_id', '=', query.ownerId);
    if (query.domain) q = q.where('domain', '=', normalizeDomain(query.domain) ?? '');
    if (query.tagId) q = q.where(taggedWith(user, 'account', query.tagId, 'crm_accounts.id'));
    if (query.q) {
      const text = query.q.trim();
      q = q.where((eb) => eb.or([containsCi('crm_accounts.name_lower', text), containsCi('crm_accounts.domain', text)]));
    }
    const rows = await q.execute();
    const page = toPage(rows, query.limit, (r) => ({ k: r.name_lower, id: r.id }));
    return { items: await views(user, page.items), nextCursor: page.nextCursor };
  }

  /** Every account with exactly this name, case-insensitively (a system read), oldest first. */
  async function findAccountsByName(name: string): Promise<AccountView[]> {
    const lower = name.trim().toLowerCase();
    if (!lower) return [];
    const rows = await db.selectFrom('crm_accounts').selectAll().where('name_lower', '=', lower).orderBy('created_at').orderBy('id').limit(100).execute();
    return views(NOBODY, rows);
  }

  /** The account with this name when exactly one has it; null when none or several (ambiguous). */
  async function getAccountByName(name: string): Promise<AccountView | null> {
    const found = await findAccountsByName(name);
    return found.length === 1 ? found[0] : null;
  }

  /**
   * C2: the account an imported contact with this company name links to — the only account with
   * that name; when several share it, the only one of them the importing user can see; else none.
   */
  async function accountForCompany(user: AccessUser, company: string): Promise<string | null> {
    const found = await findAccountsByName(company);
    if (found.length <= 1) return found[0]?.id ?? null;
    const visible = await db
      .selectFrom('crm_accounts')
      .select('id')
      .where(
        'id',
        'in',
        found.map((a) => a.id),
      )
      .where(accessFilter(user, 'account', { id: 'crm_accounts.id', owner: 'crm_accounts.owner_id' }))
      .execute();
    return visible.length === 1 ? visible[0].id : null;
  }

  return { views, get, create, update, remove, list, getAccountByName, findAccountsByName, accountForCompany };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
