export function AddMailboxPage() {
  return null;
}
