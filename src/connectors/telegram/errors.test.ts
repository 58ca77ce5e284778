import { describe, expect, it } from 'vitest';
import { TelegramError, describeTelegramError, kindForStatus, redactToken } from './errors.js';
import { verifyWebhookSecret } from './webhook-secret.js';

describe('Telegram errors', () => {
  it('classifies HTTP statuses', () => {
    expect([401, 403, 404, 409, 429, 400, 500, 502, 0].map(kindForStatus)).toEqual([
      'auth', 'forbidden', 'not-found', 'conflict', 'rate-limited', 'bad-request', 'transient', 'transient', 'transient',
    ]);
  });

  it('redacts tokens in any text', () => {
    const token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
    expect(redactToken(`GET https://api.telegram.org/bot${token}/getMe failed`, token)).toBe(
      'GET https://api.telegram.org/bot<redacted>/getMe failed',
    );
    // Even without knowing the token.
    expect(redactToken(`/file/bot${token}/photos/1.jpg and ${token}`)).not.toContain('AAHdqTcv');
  });

  it('explains every kind in plain words', () => {
    const kinds = ['auth', 'rate-limited', 'conflict', 'not-found', 'forbidden', 'bad-request', 'transient'] as const;
    const texts = kinds.map((k) => describeTelegramError(new TelegramError(k, 0, 'x', 5)));
    expect(new Set(texts).size).toBe(kinds.length);
    expect(texts[0]).toBe('The bot token was rejected by Telegram (revoked or mistyped). Get the current token from @BotFather and enter it again.');
    expect(texts[1]).toContain('5 seconds');
    const other = new TelegramError('conflict', 409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
    expect(other.conflictKind).toBe('other-poller');
    expect(describeTelegramError(other)).toMatch(/^Another program is polling this bot/);
    const hook = new TelegramError('conflict', 409, "Conflict: can't use getUpdates method while webhook is active");
    expect(hook.conflictKind).toBe('webhook');
    expect(describeTelegramError(new Error('boom'))).toMatch(/unexpected/);
  });
});

describe('verifyWebhookSecret', () => {
  it('accepts only the exact secret', () => {
    expect(verifyWebhookSecret('abc-DEF_123', 'abc-DEF_123')).toBe(true);
    for (const bad of ['abc-DEF_12', 'abc-DEF_1234', 'ABC-DEF_123', '', undefined, null, ['abc-DEF_123']]) {
      expect(verifyWebhookSecret(bad as string | undefined, 'abc-DEF_123')).toBe(false);
    }
    // An empty expected secret never matches (misconfiguration must not open the door).
    expect(verifyWebhookSecret('', '')).toBe(false);
  });
});
