import { describe, expect, it } from 'vitest';
import { diagnoseWebhook } from './diagnostics.js';

const url = 'https://crm.example.com/webhooks/telegram/8d3c';
const now = new Date('2026-01-01T12:00:00Z');
const sec = (d: Date) => Math.floor(d.getTime() / 1000);

describe('diagnoseWebhook', () => {
  it('reports a healthy webhook', () => {
    const d = diagnoseWebhook({ url, has_custom_certificate: false, pending_update_count: 0 }, url, now);
    expect(d).toMatchObject({ state: 'ok', needsReregistration: false, pendingUpdates: 0 });
  });

  it('asks for re-registration when the webhook is lost or replaced, without leaking the other URL path', () => {
    expect(diagnoseWebhook({ url: '', has_custom_certificate: false, pending_update_count: 3 }, url, now)).toMatchObject({
      state: 'missing',
      needsReregistration: true,
      pendingUpdates: 3,
    });
    const other = diagnoseWebhook({ url: 'https://other.example.org/hook/SECRET123', has_custom_certificate: false, pending_update_count: 0 }, url, now);
    expect(other).toMatchObject({ state: 'other-url', needsReregistration: true });
    expect(other.explanation).toContain('https://other.example.org');
    expect(other.explanation).not.toContain('SECRET123');
  });

  it('treats an error as current while updates wait or while it is recent, and as history otherwise', () => {
    const old = sec(new Date(now.getTime() - 3600_000));
    const failing = diagnoseWebhook(
      { url, has_custom_certificate: false, pending_update_count: 4, last_error_date: old, last_error_message: 'Connection refused' },
      url,
      now,
    );
    expect(failing).toMatchObject({ state: 'failing', lastError: { message: 'Connection refused', at: new Date(old * 1000).toISOString() } });
    expect(failing.explanation).toMatch(/Connection refused.*4 message/);
    const recovered = diagnoseWebhook(
      { url, has_custom_certificate: false, pending_update_count: 0, last_error_date: old, last_error_message: 'Connection refused' },
      url,
      now,
    );
    expect(recovered.state).toBe('ok');
    expect(recovered.lastError?.message).toBe('Connection refused');
    const recent = diagnoseWebhook(
      { url, has_custom_certificate: false, pending_update_count: 0, last_error_date: sec(now) - 30, last_error_message: 'Wrong response from the webhook: 502 Bad Gateway' },
      url,
      now,
    );
    expect(recent.state).toBe('failing');
  });

  it('clears a stale error once a delivery arrived after it (Telegram keeps last_error_date)', () => {
    const errorAt = sec(now) - 30;
    const info = { url, has_custom_certificate: false, pending_update_count: 1, last_error_date: errorAt, last_error_message: 'Connection refused' };
    // No delivery since the error (or one within the same second): still failing.
    expect(diagnoseWebhook(info, url, now, null).state).toBe('failing');
    expect(diagnoseWebhook(info, url, now, new Date(errorAt * 1000 + 500)).state).toBe('failing');
    // A delivery after it: the error is history, though Telegram still reports it.
    const ok = diagnoseWebhook(info, url, now, new Date((errorAt + 2) * 1000));
    expect(ok.state).toBe('ok');
    expect(ok.lastError?.message).toBe('Connection refused');
  });
});
