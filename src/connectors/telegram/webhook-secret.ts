// Webhook deliveries carry X-Telegram-Bot-Api-Secret-Token (no HMAC). Compare it in constant
// time; hashing both sides first keeps the comparison constant-time even when lengths differ.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export function verifyWebhookSecret(headerValue: string | string[] | undefined | null, expected: string): boolean {
  if (typeof headerValue !== 'string' || headerValue.length === 0 || expected.length === 0) return false;
  const a = createHash('sha256').update(headerValue, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** A fresh secret_token: 64 chars from Telegram's allowed set [A-Za-z0-9_-] (limit 1–256). */
export function newWebhookSecret(): string {
  return randomBytes(48).toString('base64url');
}
