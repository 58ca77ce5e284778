import { describe, expect, it } from 'vitest';
import type { FieldProblem } from '../../platform/http/errors.js';
import { isUsualPair, normalizeEndpoint } from './endpoints.js';
import { providerKeyForMx } from './mx.js';
import { loginFor, normalizeDomain } from './service.js';

function run(kind: 'imap' | 'smtp', input: Parameters<typeof normalizeEndpoint>[1]) {
  const problems: FieldProblem[] = [];
  const e = normalizeEndpoint(kind, input, kind, problems);
  return { e, problems };
}

describe('security ↔ port rules (M1)', () => {
  it.each([
    ['imap', { security: 'ssl' }, 993, 'ssl'],
    ['imap', { security: 'starttls' }, 143, 'starttls'],
    ['imap', { security: 'none' }, 143, 'none'],
    ['imap', { port: 993 }, 993, 'ssl'],
    ['imap', { port: 143 }, 143, 'starttls'],
    ['imap', {}, 993, 'ssl'],
    ['smtp', { security: 'ssl' }, 465, 'ssl'],
    ['smtp', { security: 'starttls' }, 587, 'starttls'],
    ['smtp', { security: 'none' }, 25, 'none'],
    ['smtp', { port: 465 }, 465, 'ssl'],
    ['smtp', { port: 587 }, 587, 'starttls'],
    ['smtp', { port: 25 }, 25, 'none'],
    ['smtp', { port: 2525, security: 'starttls' }, 2525, 'starttls'],
    ['smtp', { port: 587, security: 'ssl' }, 587, 'ssl'],
  ] as const)('%s %j → %i %s', (kind, given, port, security) => {
    const { e, problems } = run(kind, { host: 'mail.example.com', ...given });
    expect(problems).toEqual([]);
    expect(e).toEqual({ host: 'mail.example.com', port, security });
  });

  it('rejects SMTP port 455, explaining the typo', () => {
    const { e, problems } = run('smtp', { host: 'smtp.example.com', port: 455 });
    expect(e).toBeNull();
    expect(problems[0]).toMatchObject({ field: 'smtp.port', message: expect.stringMatching(/typo for 465/) });
  });

  it('needs a security for an unusual port given alone', () => {
    const { problems } = run('imap', { host: 'imap.example.com', port: 1993 });
    expect(problems[0].field).toBe('imap.security');
  });

  it.each(['', '   ', 'https://imap.example.com', 'imap example.com', 'imap..example.com', '-bad.example.com', 'x'.repeat(300)])('rejects host %j', (host) => {
    expect(run('imap', { host, security: 'ssl' }).problems[0].field).toBe('imap.host');
  });

  it('accepts IPs and lower-cases names', () => {
    expect(run('imap', { host: '10.0.0.5', security: 'ssl' }).e?.host).toBe('10.0.0.5');
    expect(run('imap', { host: '::1', security: 'ssl' }).e?.host).toBe('::1');
    expect(run('imap', { host: 'IMAP.Example.COM.', security: 'ssl' }).e?.host).toBe('imap.example.com');
  });

  it('knows the usual pairs', () => {
    expect(isUsualPair('smtp', { host: 'h', port: 587, security: 'starttls' })).toBe(true);
    expect(isUsualPair('smtp', { host: 'h', port: 587, security: 'ssl' })).toBe(false);
  });
});

describe('login formats, domains, MX rules', () => {
  it('applies the login format', () => {
    expect(loginFor('email', 'ann@acme.test')).toBe('ann@acme.test');
    expect(loginFor('local-part', 'ann.lee@acme.test')).toBe('ann.lee');
    expect(loginFor('manual', 'ann@acme.test', '  ACME\\ann ')).toBe('ACME\\ann');
    expect(loginFor('manual', 'ann@acme.test')).toBeNull();
  });

  it('normalises domains', () => {
    expect(normalizeDomain('@Gmail.COM.')).toBe('gmail.com');
    expect(normalizeDomain('localhost')).toBeNull();
    expect(normalizeDomain("x'; drop")).toBeNull();
  });

  it('maps MX hosts to providers', () => {
    expect(providerKeyForMx(['aspmx.l.google.com.'])).toBe('gmail');
    expect(providerKeyForMx(['acme-com.mail.protection.outlook.com'])).toBe('microsoft365');
    expect(providerKeyForMx(['mx.yandex.net'])).toBe('yandex');
    expect(providerKeyForMx(['mxs.mail.ru'])).toBe('mailru');
    expect(providerKeyForMx(['mx01.mail.icloud.com'])).toBe('icloud');
    expect(providerKeyForMx(['mx.zoho.eu'])).toBe('zoho');
    expect(providerKeyForMx(['mail.notgoogle.com', 'mx.acme.example'])).toBeNull();
  });
});
