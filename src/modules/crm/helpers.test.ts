// Pure helpers of the CRM: domain normalisation, phone digits, primary flags, change diffs.
import { describe, expect, it } from 'vitest';
import { normalizeDomain } from './accounts.js';
import { diffFields, phoneDigits, timeOrderedId, withPrimary } from './context.js';
import { accessFilter } from './access.js';
import { csvCell } from './export.js';

describe('crm helpers', () => {
  it('normalises a website or domain to a bare lower-case host', () => {
    expect(normalizeDomain('https://www.Acme.COM/about?x=1')).toBe('acme.com');
    expect(normalizeDomain('acme.co.uk')).toBe('acme.co.uk');
    expect(normalizeDomain('  http://sub.Example.org#frag ')).toBe('sub.example.org');
    expect(normalizeDomain('')).toBeNull();
    expect(normalizeDomain(null)).toBeNull();
    expect(normalizeDomain('https://')).toBeNull();
  });

  it('keeps only the digits of a phone number', () => {
    expect(phoneDigits('+7 (912) 345-67-89')).toBe('79123456789');
    expect(phoneDigits('ext. none')).toBe('');
  });

  it('makes exactly one entry primary and refuses two', () => {
    expect(withPrimary<{ v: number; isPrimary?: boolean }>([{ v: 1 }, { v: 2 }], 'emails').map((e) => e.isPrimary)).toEqual([true, false]);
    expect(withPrimary<{ v: number; isPrimary?: boolean }>([{ v: 1 }, { v: 2, isPrimary: true }], 'emails').map((e) => e.isPrimary)).toEqual([false, true]);
    expect(withPrimary<{ isPrimary?: boolean }>([], 'emails')).toEqual([]);
    expect(() => withPrimary([{ isPrimary: true }, { isPrimary: true }], 'emails')).toThrow(expect.objectContaining({ statusCode: 400, details: { fields: [{ field: 'emails', message: 'Only one entry may be primary.' }] } }));
  });

  it('lists changed fields, naming long ones without copying them', () => {
    const changes = diffFields({ name: 'A', notes: 'old', type: 'other', tags: ['x'] }, { name: 'B', notes: 'new', type: 'other', tags: undefined }, ['notes']);
    expect(changes).toEqual([{ field: 'name', from: 'A', to: 'B' }, { field: 'notes' }]);
    expect(diffFields({ a: null }, { a: null })).toEqual([]);
    expect(diffFields({ a: null }, { a: 'x' })).toEqual([{ field: 'a', from: null, to: 'x' }]);
  });

  it('builds no share lookup for administrators and one for everyone else', () => {
    const admin = accessFilter({ id: 'u', roleIds: [], operations: ['CanManageAdministration'] }, 'contact', { id: 'c.id', owner: 'c.owner_id' });
    const user = accessFilter({ id: 'u', roleIds: ['r1', 'r2'], operations: [] }, 'contact', { id: 'c.id', owner: 'c.owner_id' });
    const text = (e: unknown) => JSON.stringify((e as { toOperationNode(): unknown }).toOperationNode());
    expect(text(admin)).not.toContain('record_shares');
    expect(text(user)).toContain('record_shares');
  });

  it('quotes CSV cells and defuses spreadsheet formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+7 912')).toBe("'+7 912");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-2')).toBe("'-2");
  });

  it('makes event ids that sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => timeOrderedId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 10)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
