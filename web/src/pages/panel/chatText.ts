// Pure text rules of the chat tab (unit-tested in test/unit/console-text.test.ts).
import type { TKey } from '../../i18n/translate.js';

/**
 * Why the operator is inactive, as text: the server sends a code ('operator' = they chose it, so
 * nothing to explain; 'accept-timeout' = an offer expired). Unknown codes show nothing.
 */
export function statusReasonKey(code: string | null | undefined): TKey | null {
  return code === 'accept-timeout' ? 'chat.reason.acceptTimeout' : null;
}
