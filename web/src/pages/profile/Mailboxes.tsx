export function MailboxesPage() {
  return null;
}
