// M5 connection test against a real smtp-server (test/helpers/smtp-server.ts): each failing step is
// named and explained in plain words.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHttps, probeSmtp } from '../../src/connectors/mail-probe/index.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const users = [{ user: 'ann@example.test', password: 'secret-pw' }];
let starttls: TestSmtpServer;
let implicit: TestSmtpServer;
let plain: TestSmtpServer;

beforeAll(async () => {
  [starttls, implicit, plain] = await Promise.all([
    startSmtpServer({ mode: 'starttls', users }),
    startSmtpServer({ mode: 'implicit-tls', users }),
    startSmtpServer({ mode: 'plain', users }),
  ]);
});
afterAll(async () => {
  await Promise.all([starttls?.close(), implicit?.close(), plain?.close()]);
});

const creds = { user: 'ann@example.test', password: 'secret-pw', allowSelfSigned: true };

describe('SMTP probe', () => {
  it('passes every step on a STARTTLS (587-style) server', async () => {
    const r = await probeSmtp({ host: '127.0.0.1', port: starttls.port, security: 'starttls', ...creds });
    expect(r.ok, r.message).toBe(true);
    expect(r.steps.map((s) => s.step)).toEqual(['dns', 'tcp', 'greeting', 'tls', 'login', 'capability']);
    expect(r.steps.every((s) => s.ok)).toBe(true);
    expect(r.failedStep).toBeNull();
    expect(r.capabilities.some((c) => c.startsWith('AUTH'))).toBe(true);
  });

  it('passes on an implicit-TLS (465-style) server', async () => {
    const r = await probeSmtp({ host: 'localhost', port: implicit.port, security: 'ssl', ...creds }, { lookup: async () => ['127.0.0.1'] });
    expect(r.ok, r.message).toBe(true);
    expect(r.steps.map((s) => s.step)).toEqual(['dns', 'tcp', 'tls', 'greeting', 'login', 'capability']);
  });

  it('without allowSelfSigned, a self-signed certificate fails the TLS step and says why', async () => {
    const r = await probeSmtp({ host: '127.0.0.1', port: implicit.port, security: 'ssl', user: 'ann@example.test', password: 'secret-pw' });
    expect(r.ok).toBe(false);
    expect(r.failedStep).toBe('tls');
    expect(r.message).toMatch(/self-signed/);
  });

  it('a wrong password fails the login step as an auth error', async () => {
    const r = await probeSmtp({ host: '127.0.0.1', port: starttls.port, security: 'starttls', ...creds, password: 'wrong' });
    expect(r.ok).toBe(false);
    expect(r.failedStep).toBe('login');
    expect(r.errorKind).toBe('auth');
    expect(r.message).toContain('The server rejected the user name or password.');
  });

  it('550 5.7.30 is explained as basic authentication being turned off', async () => {
    implicit.fail({ stage: 'auth', code: 550 });
    const r = await probeSmtp({ host: '127.0.0.1', port: implicit.port, security: 'ssl', ...creds });
    expect(r.failedStep).toBe('login');
    expect(r.message).toMatch(/basic authentication is turned off/);
  });

  it('a server without STARTTLS fails the TLS step: the password would travel unencrypted', async () => {
    const r = await probeSmtp({ host: '127.0.0.1', port: plain.port, security: 'starttls', ...creds });
    expect(r.failedStep).toBe('tls');
    expect(r.message).toContain('The server does not offer STARTTLS, so the password would travel unencrypted.');
  });

  it('SSL/TLS chosen for a plain-greeting port fails the TLS step with a hint about the security setting', async () => {
    const r = await probeSmtp({ host: '127.0.0.1', port: starttls.port, security: 'ssl', ...creds }, { stepTimeoutMs: 3000 });
    expect(r.failedStep).toBe('tls');
    expect(r.message).toMatch(/security setting/);
  });

  it('security "none" works against a plain server and marks TLS as skipped', async () => {
    const r = await probeSmtp({ host: '127.0.0.1', port: plain.port, security: 'none', ...creds });
    expect(r.ok, r.message).toBe(true);
    expect(r.steps.find((s) => s.step === 'tls')).toMatchObject({ skipped: true });
  });

  it('a 421 greeting fails the greeting step as temporary', async () => {
    starttls.fail({ stage: 'connect', code: 421 });
    const r = await probeSmtp({ host: '127.0.0.1', port: starttls.port, security: 'starttls', ...creds });
    expect(r.failedStep).toBe('greeting');
    expect(r.errorKind).toBe('transient');
  });

  it('a closed port fails the TCP step: connection refused', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const r = await probeSmtp({ host: '127.0.0.1', port, security: 'ssl', ...creds });
    expect(r.failedStep).toBe('tcp');
    expect(r.message).toBe(`Could not connect to 127.0.0.1:${port} — connection refused. Check the server address and port.`);
  });

  it('an unknown host fails the DNS step', async () => {
    const lookup = async () => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    const r = await probeSmtp({ host: 'smtp.no-such-host.test', port: 465, security: 'ssl', ...creds }, { lookup });
    expect(r.failedStep).toBe('dns');
    expect(r.steps).toHaveLength(1);
    expect(r.message).toMatch(/smtp\.no-such-host\.test does not exist/);
  });

  it('a server that never greets fails the greeting step within the step timeout', async () => {
    const silent = net.createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const r = await probeSmtp({ host: '127.0.0.1', port, security: 'none', ...creds }, { stepTimeoutMs: 500 });
      expect(r.failedStep).toBe('greeting');
      expect(r.message).toMatch(/did not send its SMTP greeting/);
    } finally {
      silent.close();
    }
  });

  it('without credentials it stops before the login and says so', async () => {
    const r = await probeSmtp({ host: '127.0.0.1', port: starttls.port, security: 'starttls', allowSelfSigned: true });
    expect(r.ok).toBe(true);
    expect(r.steps.find((s) => s.step === 'login')).toMatchObject({ skipped: true });
    expect(r.message).toMatch(/login was not tested/);
  });

  it('an Exchange service address is checked up to TLS; the sign-in is reported as not tested', async () => {
    const r = await probeHttps({ host: '127.0.0.1', port: implicit.port, allowSelfSigned: true });
    expect(r.ok, r.message).toBe(true);
    expect(r.steps.map((s) => [s.step, s.skipped ?? false])).toEqual([['dns', false], ['tcp', false], ['tls', false], ['login', true]]);
    const strict = await probeHttps({ host: '127.0.0.1', port: implicit.port });
    expect(strict.failedStep).toBe('tls');
  });
});
