export function RecordPage(_: { kind: 'contacts' | 'accounts' }) {
  return null;
}
