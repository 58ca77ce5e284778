// M5 connection test against a real Dovecot (test/helpers/dovecot.ts, mail-B's harness).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeImap } from '../../src/connectors/mail-probe/index.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';

let dc: Dovecot;
const user = 'ann@probe.test';
const password = 'imap-secret-1';

beforeAll(async () => {
  dc = await startDovecot({ users: [{ user, password }] });
});
afterAll(async () => {
  await dc?.close();
});

describe('IMAP probe against Dovecot', () => {
  it('passes every step over STARTTLS and reports capabilities and the Sent folder', async () => {
    const r = await probeImap({ host: dc.host, port: dc.port, security: 'starttls', user, password, allowSelfSigned: true });
    expect(r.ok, r.message).toBe(true);
    expect(r.steps.map((s) => s.step)).toEqual(['dns', 'tcp', 'greeting', 'tls', 'login', 'capability']);
    expect(r.capabilities).toEqual(expect.arrayContaining(['IMAP4REV1', 'IDLE']));
    // The harness's Dovecot marks "Sent" with SPECIAL-USE \Sent.
    expect(r.sentFolder).toBe('Sent');
  });

  it('passes over implicit TLS', async () => {
    const r = await probeImap({ host: dc.host, port: dc.tlsPort, security: 'ssl', user, password, allowSelfSigned: true });
    expect(r.ok, r.message).toBe(true);
    expect(r.steps.map((s) => s.step)).toEqual(['dns', 'tcp', 'tls', 'greeting', 'login', 'capability']);
  });

  it('a wrong password fails the login step in plain words', async () => {
    const r = await probeImap({ host: dc.host, port: dc.tlsPort, security: 'ssl', user, password: 'wrong', allowSelfSigned: true });
    expect(r.ok).toBe(false);
    expect(r.failedStep).toBe('login');
    expect(r.errorKind).toBe('auth');
    expect(r.message).toContain('The server rejected the user name or password.');
    expect(r.steps.find((s) => s.step === 'capability')).toBeUndefined();
  });

  it('refuses the self-signed certificate unless the provider allows it', async () => {
    const r = await probeImap({ host: dc.host, port: dc.tlsPort, security: 'ssl', user, password });
    expect(r.failedStep).toBe('tls');
    expect(r.message).toMatch(/self-signed/);
  });

  it('SSL/TLS on the plain port fails the TLS step with a hint to check the security setting', async () => {
    const r = await probeImap({ host: dc.host, port: dc.port, security: 'ssl', user, password, allowSelfSigned: true }, { stepTimeoutMs: 3000 });
    expect(r.failedStep).toBe('tls');
    expect(r.message).toMatch(/security setting/);
  });

  it('STARTTLS on the implicit-TLS port fails at the greeting within the step timeout', async () => {
    const r = await probeImap({ host: dc.host, port: dc.tlsPort, security: 'starttls', user, password, allowSelfSigned: true }, { stepTimeoutMs: 1000 });
    expect(r.failedStep).toBe('greeting');
    expect(r.message).toMatch(/did not send its IMAP greeting/);
  });
});
