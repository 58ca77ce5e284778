export interface MailAddress {
  name: string;
  address: string;
}
export interface EmailSummary {
  id: string;
  mailboxId: string;
  threadId: string;
  messageId: string | null;
  direction: 'in' | 'out';
  subject: string;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  date: string;
  snippet: string;
  flags: string[];
  folders: string[];
  hasAttachments: boolean;
  parseError: string | null;
  isDeleted: boolean;
}
export interface EmailDetail extends EmailSummary {
  bcc: MailAddress[];
  replyTo: MailAddress[];
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  blockedImages: number;
  attachments: { id: string; filename: string; contentType: string; size: number; contentId: string | null; inline: boolean }[];
  links: { recordType: string; recordId: string }[];
}

export function addr(a: MailAddress | null | undefined): string {
  if (!a) return '';
  return a.name ? `${a.name} <${a.address}>` : a.address;
}
export function who(a: MailAddress | null | undefined): string {
  return a ? a.name || a.address : '';
}
