// Pure text rules of the chat tab (unit-tested in test/unit/console-text.test.ts).
import type { TKey } from '../../i18n/translate.js';
import type { Chat } from './chatTypes.js';

/**
 * Why the operator is inactive, as text: the server sends a code ('operator' = they chose it, so
 * nothing to explain; 'accept-timeout' = an offer expired). Unknown codes show nothing.
 */
export function statusReasonKey(code: string | null | undefined): TKey | null {
  return code === 'accept-timeout' ? 'chat.reason.acceptTimeout' : null;
}

/** A contact's chats other than `currentChatId`, newest first (from GET /api/chats?contactId=). */
export function earlierChats(chats: Chat[], currentChatId: string): Chat[] {
  return chats.filter((c) => c.id !== currentChatId).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** "Telegram (@acme_bot)" — the channel a chat came through, as the timeline names it. */
export function channelLabel(c: Pick<Chat, 'channelName' | 'channelKind'>): string {
  const kind = c.channelKind ? c.channelKind.slice(0, 1).toUpperCase() + c.channelKind.slice(1) : '';
  if (kind && c.channelName) return `${kind} (${c.channelName})`;
  return c.channelName ?? kind;
}
