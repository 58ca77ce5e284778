// Cases (support requests) with a human-readable number, sequential per installation.
import { containsCi, newId, nowIso } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { DB } from '../../schema.js';
import type { CrmCasesTable } from './tables.js';
import { accessFilter, type AccessUser } from './access.js';
import {
  assertUsers,
  assertVisibleRecords,
  deleteRecordLinks,
  diffFields,
  loadApplicableTags,
  notFound,
  recordEvent,
  requireAccess,
  taggedWith,
  setRecordTags,
  tagsOf,
  type CrmContext,
} from './context.js';
import { caseCreate, casePatch, parseInput, type CaseView } from './schemas.js';

export interface CaseListQuery {
  q?: string;
  status?: string;
  priority?: string;
  contactId?: string;
  accountId?: string;
  ownerId?: string;
  tagId?: string;
  limit: number;
  cursor?: string;
}

const NOBODY: AccessUser = { id: '', roleIds: [], operations: [] };
const CLOSED = new Set(['resolved', 'closed']);

/**
 * Next case number. UPDATE … RETURNING takes the counter row's lock on PostgreSQL (concurrent
 * creators queue on it until commit) and SQLite serialises writers, so numbers never repeat; a
 * rolled-back creation leaves a gap, which is fine for a human-readable number.
 */
async function nextCaseNumber(trx: DB): Promise<number> {
  const row = await trx
    .updateTable('crm_counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', 'case_number')
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

export function createCasesService(ctx: CrmContext) {
  const { db } = ctx;

  async function views(user: AccessUser, rows: CrmCasesTable[]): Promise<CaseView[]> {
    const tags = await tagsOf(db, user, 'case', rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      number: Number(r.number),
      subject: r.subject,
      description: r.description,
      status: r.status as CaseView['status'],
      priority: r.priority as CaseView['priority'],
      contactId: r.contact_id,
      accountId: r.account_id,
      ownerId: r.owner_id,
      tags: tags.get(r.id) ?? [],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      closedAt: r.closed_at,
    }));
  }

  async function get(id: string, user?: AccessUser): Promise<CaseView> {
    if (user) await requireAccess(ctx, user, 'case', id);
    return present(id, user);
  }

  /** The record as `user` sees it, without the access check: right after the user wrote it, even
   * when the write handed it to another owner (the writer must still get the result). */
  async function present(id: string, user?: AccessUser): Promise<CaseView> {
    const row = await db.selectFrom('crm_cases').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('case', id);
    return (await views(user?.id ? user : NOBODY, [row]))[0];
  }

  async function checkRefs(user: AccessUser, input: { contactId?: string | null; accountId?: string | null; ownerId?: string }) {
    if (input.contactId) await assertVisibleRecords(db, user, 'contact', [input.contactId], 'contactId');
    if (input.accountId) await assertVisibleRecords(db, user, 'account', [input.accountId], 'accountId');
    if (input.ownerId) await assertUsers(db, [input.ownerId], 'ownerId');
  }

  async function create(user: AccessUser, raw: unknown): Promise<CaseView> {
    const input = parseInput(caseCreate, raw);
    await checkRefs(user, input);
    const tags = await loadApplicableTags(db, user, input.tagIds ?? []);
    let accountId = input.accountId ?? null;
    if (accountId === null && input.contactId && input.accountId === undefined) {
      // A case about a contact belongs to the contact's company unless told otherwise.
      const c = await db.selectFrom('crm_contacts').select('account_id').where('id', '=', input.contactId).executeTakeFirst();
      accountId = c?.account_id ?? null;
    }
    const id = newId();
    const now = nowIso();
    const status = input.status ?? 'new';
    await db.transaction().execute(async (trx) => {
      const number = await nextCaseNumber(trx);
      await trx
        .insertInto('crm_cases')
        .values({
          id,
          number,
          subject: input.subject,
          description: input.description ?? null,
          status,
          priority: input.priority ?? 'medium',
          contact_id: input.contactId ?? null,
          account_id: accountId,
          owner_id: input.ownerId ?? user.id,
          created_by: user.id || null,
          created_at: now,
          updated_at: now,
          closed_at: CLOSED.has(status) ? now : null,
        })
        .execute();
      await setRecordTags(trx, user, 'case', id, tags);
      await recordEvent(trx, 'case', id, 'created', user.id || null, { number, subject: input.subject });
    });
    return present(id, user);
  }

  async function update(user: AccessUser, id: string, raw: unknown): Promise<CaseView> {
    const patch = parseInput(casePatch, raw);
    await requireAccess(ctx, user, 'case', id, patch.ownerId !== undefined ? 'owner' : 'edit');
    const before = await db.selectFrom('crm_cases').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await checkRefs(user, patch);
    const tags = patch.tagIds ? await loadApplicableTags(db, user, patch.tagIds) : null;
    await db.transaction().execute(async (trx) => {
      const now = nowIso();
      const set: Partial<CrmCasesTable> = { updated_at: now };
      if (patch.subject !== undefined) set.subject = patch.subject;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.priority !== undefined) set.priority = patch.priority;
      if (patch.contactId !== undefined) set.contact_id = patch.contactId;
      if (patch.accountId !== undefined) set.account_id = patch.accountId;
      if (patch.ownerId !== undefined) set.owner_id = patch.ownerId;
      if (patch.status !== undefined && patch.status !== before.status) {
        set.status = patch.status;
        set.closed_at = CLOSED.has(patch.status) ? (before.closed_at ?? now) : null;
      }
      await trx.updateTable('crm_cases').set(set).where('id', '=', id).execute();
      if (tags) await setRecordTags(trx, user, 'case', id, tags);
      if (set.status !== undefined) await recordEvent(trx, 'case', id, 'status-changed', user.id, { from: before.status, to: set.status });
      const changes = diffFields(
        { subject: before.subject, description: before.description, priority: before.priority, contactId: before.contact_id, accountId: before.account_id, ownerId: before.owner_id },
        { subject: patch.subject, description: patch.description, priority: patch.priority, contactId: patch.contactId, accountId: patch.accountId, ownerId: patch.ownerId },
        ['description'],
      );
      if (changes.length) await recordEvent(trx, 'case', id, 'updated', user.id, { changes });
    });
    return present(id, user);
  }

  async function remove(user: AccessUser, id: string) {
    await requireAccess(ctx, user, 'case', id, 'edit');
    await db.transaction().execute(async (trx) => {
      await deleteRecordLinks(trx, 'case', id, user.id);
      await trx.deleteFrom('crm_cases').where('id', '=', id).execute();
    });
  }

  /** Newest first (highest number). */
  async function list(user: AccessUser, query: CaseListQuery): Promise<Page<CaseView>> {
    const after = decodeCursor(query.cursor);
    let q = db
      .selectFrom('crm_cases')
      .selectAll()
      .where(accessFilter(user, 'case', { id: 'crm_cases.id', owner: 'crm_cases.owner_id' }))
      .orderBy('number', 'desc')
      .limit(query.limit + 1);
    if (after) {
      // The cursor comes from the client: a forged non-number must be a 400, not a database error.
      const k = Number(after.k);
      if (!Number.isSafeInteger(k)) throw errors.validation([{ field: 'cursor', message: 'Invalid cursor; use nextCursor from the previous page.' }]);
      q = q.where('number', '<', k);
    }
    if (query.status) q = q.where('status', '=', query.status);
    if (query.priority) q = q.where('priority', '=', query.priority);
    if (query.contactId) q = q.where('contact_id', '=', query.contactId);
    if (query.accountId) q = q.where('account_id', '=', query.accountId);
    if (query.ownerId) q = q.where('owner_id', '=', query.ownerId);
    if (query.tagId) q = q.where(taggedWith(user, 'case', query.tagId, 'crm_cases.id'));
    if (query.q) {
      const text = query.q.trim().replace(/^#/, '');
      const n = /^\d{1,15}$/.test(text) ? Number(text) : null;
      q = q.where((eb) => eb.or([containsCi('crm_cases.subject', text), ...(n !== null ? [eb('number', '=', n)] : [])]));
    }
    const rows = await q.execute();
    const page = toPage(rows, query.limit, (r) => ({ k: Number(r.number), id: r.id }));
    return { items: await views(user, page.items), nextCursor: page.nextCursor };
  }

  return { views, get, create, update, remove, list };
}

export type CasesService = ReturnType<typeof createCasesService>;
