export function MailboxSettingsPage() {
  return null;
}
