export function RecordsPage(_: { kind: 'contacts' | 'accounts' }) {
  return null;
}
