// Pure text rules of the chat tab (unit-tested in test/unit/console-text.test.ts).
import type { TKey } from '../../i18n/translate.js';
import type { TimelineEntry } from '../crm/types.js';

/**
 * Why the operator is inactive, as text: the server sends a code ('operator' = they chose it, so
 * nothing to explain; 'accept-timeout' = an offer expired). Unknown codes show nothing.
 */
export function statusReasonKey(code: string | null | undefined): TKey | null {
  return code === 'accept-timeout' ? 'chat.reason.acceptTimeout' : null;
}

/** A contact's chats other than `currentChatId`, newest first, from its timeline entries. */
export function earlierChats(entries: TimelineEntry[], currentChatId: string): TimelineEntry[] {
  return entries
    .filter((e) => e.source === 'chat' && e.kind === 'chat' && typeof e.data.chatId === 'string' && e.data.chatId !== currentChatId)
    .sort((a, b) => b.at.localeCompare(a.at));
}
