// "Contacts you have access to" as CSV (P5: exports respect record access). Streams page by page
// over the same access-filtered keyset list the API uses, so memory stays flat however many rows.
import type { AccessUser } from './access.js';
import type { ContactListQuery, ContactsService } from './contacts.js';
import type { ContactView } from './schemas.js';

const COLUMNS = ['id', 'name', 'type', 'jobTitle', 'accountId', 'primaryEmail', 'emails', 'phones', 'ownerId', 'tags', 'createdAt', 'updatedAt'] as const;

/**
 * One CSV cell (RFC 4180 quoting). Cells that a spreadsheet would run as a formula (= + - @, tab,
 * CR) get a leading apostrophe: exported CRM data is attacker-controlled text (CSV injection).
 */
export function csvCell(value: string | null | undefined): string {
  let v = value ?? '';
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function row(c: ContactView): string {
  const primary = c.emails.find((e) => e.isPrimary)?.email ?? '';
  const cells: Record<(typeof COLUMNS)[number], string | null> = {
    id: c.id,
    name: c.name,
    type: c.type,
    jobTitle: c.jobTitle,
    accountId: c.accountId,
    primaryEmail: primary,
    emails: c.emails.map((e) => e.email).join('; '),
    phones: c.phones.map((p) => p.phone).join('; '),
    ownerId: c.ownerId,
    tags: c.tags.map((t) => t.name).join('; '),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
  return COLUMNS.map((k) => csvCell(cells[k])).join(',') + '\r\n';
}

export async function* contactsCsv(contacts: ContactsService, user: AccessUser, filter: Omit<ContactListQuery, 'limit' | 'cursor'>): AsyncGenerator<string> {
  // A byte-order mark so spreadsheet programs read the UTF-8 names correctly.
  yield '\uFEFF' + COLUMNS.join(',') + '\r\n';
  let cursor: string | undefined;
  do {
    const page = await contacts.list(user, { ...filter, limit: 500, cursor });
    yield page.items.map(row).join('');
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
