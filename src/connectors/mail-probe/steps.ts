// The protocol-neutral steps of a connection test (DNS, TCP, TLS) on raw sockets, plus the plain-words
// explanations of their failures. Kept apart from imapflow/nodemailer because those libraries fold
// DNS, TCP and TLS errors into one "connection failed", and the user needs to know which one broke.
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { ProbeErrorKind, ProbeOptions, ProbeResult, ProbeStep, ProbeStepName, ProbeTarget } from './types.js';

export class StepError extends Error {
  constructor(
    message: string,
    public readonly kind: ProbeErrorKind,
  ) {
    super(message);
  }
}

export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

export function stepTimeout(opts: ProbeOptions): number {
  return opts.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
}

export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]);
}

function seconds(ms: number): string {
  const s = Math.round(ms / 100) / 10;
  return `${s} second${s === 1 ? '' : 's'}`;
}

/** Records steps in order; `run` times one step and turns its failure into the result's message. */
export class StepRecorder {
  readonly steps: ProbeStep[] = [];
  failure: { step: ProbeStepName; message: string; kind: ProbeErrorKind } | null = null;

  async run<T>(step: ProbeStepName, fn: () => Promise<{ value: T; message: string }>): Promise<T> {
    const started = Date.now();
    try {
      const { value, message } = await fn();
      this.steps.push({ step, ok: true, ms: Date.now() - started, message });
      return value;
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError(`Unexpected error: ${(err as Error).message}`, 'transient');
      this.steps.push({ step, ok: false, ms: Date.now() - started, message: e.message });
      this.failure = { step, message: e.message, kind: e.kind };
      throw e;
    }
  }

  skip(step: ProbeStepName, message: string): void {
    this.steps.push({ step, ok: true, skipped: true, ms: 0, message });
  }

  result(protocol: ProbeResult['protocol'], target: ProbeTarget, okMessage: string, extra: Partial<ProbeResult> = {}): ProbeResult {
    return {
      protocol,
      host: target.host,
      port: target.port,
      ok: !this.failure,
      steps: this.steps,
      failedStep: this.failure?.step ?? null,
      message: this.failure?.message ?? okMessage,
      errorKind: this.failure?.kind ?? null,
      capabilities: [],
      ...extra,
    };
  }
}

export async function resolveHost(target: ProbeTarget, opts: ProbeOptions): Promise<{ value: string; message: string }> {
  if (net.isIP(target.host)) return { value: target.host, message: `${target.host} is an IP address; no lookup needed.` };
  const timeout = Math.min(stepTimeout(opts), 5_000);
  const lookup = opts.lookup ?? (async (h: string) => (await dnsLookup(h, { all: true })).map((a) => a.address));
  let addresses: string[];
  try {
    addresses = await withTimeout(lookup(target.host), timeout, () => Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      throw new StepError(`The server name ${target.host} does not exist (DNS lookup found nothing). Check the spelling of the server address.`, 'permanent');
    }
    if (code === 'ETIMEOUT') {
      throw new StepError(`Could not look up the server name ${target.host}: DNS did not answer within ${seconds(timeout)}. Check the network connection of the Switchboard server.`, 'transient');
    }
    throw new StepError(`Could not look up the server name ${target.host} (${code ?? (err as Error).message}). Check the server address and the network connection.`, 'transient');
  }
  if (addresses.length === 0) {
    throw new StepError(`The server name ${target.host} has no address. Check the server address.`, 'permanent');
  }
  return { value: addresses[0], message: `${target.host} resolves to ${addresses.join(', ')}.` };
}

export function connectTcp(address: string, target: ProbeTarget, opts: ProbeOptions): Promise<{ value: net.Socket; message: string }> {
  const timeout = stepTimeout(opts);
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StepError(`Could not connect to ${where} — no answer within ${seconds(timeout)}. The address or port may be wrong, or a firewall blocks the connection.`, 'transient'));
    }, timeout);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // A reset after this point is reported by whichever step is reading; never let it crash the process.
      socket.on('error', () => {});
      resolve({ value: socket, message: `Connected to ${where}.` });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const reason =
        err.code === 'ECONNREFUSED'
          ? 'connection refused'
          : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH'
            ? 'the network cannot reach that host'
            : err.code === 'ECONNRESET'
              ? 'the connection was reset'
              : err.code ?? err.message;
      reject(new StepError(`Could not connect to ${where} — ${reason}. Check the server address and port.`, 'transient'));
    });
  });
}

function tlsFailure(err: NodeJS.ErrnoException, target: ProbeTarget, how: 'implicit' | 'starttls'): StepError {
  const code = err.code ?? '';
  const fix = 'If this is your own server with a self-signed certificate, an administrator can allow self-signed certificates for this provider.';
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN') {
    return new StepError(`The certificate of ${target.host} is self-signed, so its identity cannot be verified. ${fix}`, 'permanent');
  }
  if (code === 'CERT_HAS_EXPIRED') return new StepError(`The certificate of ${target.host} has expired. The server's administrator must renew it.`, 'permanent');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new StepError(`The certificate presented on ${target.host} is issued for a different name. Check the server address (use the name on the certificate).`, 'permanent');
  }
  if (code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' || code.startsWith('CERT_')) {
    return new StepError(`The certificate of ${target.host} is not trusted (${code}). ${fix}`, 'permanent');
  }
  if (how === 'implicit' && (/wrong version number|packet length too long|unknown protocol/i.test(err.message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER')) {
    return new StepError(
      `The server at ${target.host}:${target.port} did not start an encrypted (SSL/TLS) session — it probably expects STARTTLS or no encryption on this port. Check the security setting and the port.`,
      'permanent',
    );
  }
  if (code === 'ECONNRESET' || /socket disconnected|closed/i.test(err.message)) {
    return new StepError(`The server at ${target.host}:${target.port} closed the connection during the encryption (TLS) handshake. Check the security setting and the port.`, 'transient');
  }
  return new StepError(`The encrypted (TLS) connection to ${target.host}:${target.port} failed: ${err.message}.`, 'transient');
}

export function startTls(socket: net.Socket, target: ProbeTarget, opts: ProbeOptions, how: 'implicit' | 'starttls'): Promise<{ value: tls.TLSSocket; message: string }> {
  const timeout = stepTimeout(opts);
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      servername: net.isIP(target.host) ? undefined : target.host,
      rejectUnauthorized: !target.allowSelfSigned,
    });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new StepError(`The encryption (TLS) handshake with ${target.host}:${target.port} did not finish within ${seconds(timeout)}. Check the security setting and the port.`, 'transient'));
    }, timeout);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.removeAllListeners('error');
      secure.on('error', () => {});
      const note = secure.authorized ? 'certificate trusted' : `certificate not verified (allowed for this provider: ${secure.authorizationError})`;
      resolve({ value: secure, message: `Encrypted with ${secure.getProtocol() ?? 'TLS'} (${how === 'starttls' ? 'STARTTLS' : 'SSL/TLS'}), ${note}.` });
    });
    secure.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      secure.on('error', () => {});
      secure.destroy();
      socket.destroy();
      reject(tlsFailure(err, target, how));
    });
  });
}

/**
 * Reads from the socket until `done(buffer)` holds. Buffers are capped: a server that streams
 * megabytes at us instead of a greeting is not a mail server.
 */
export function readUntil(socket: net.Socket, done: (text: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) {
        cleanup();
        resolve(text);
      } else if (text.length > 64 * 1024) {
        cleanup();
        reject(new StepError(`The server sent an unexpected reply while waiting for ${what}; it does not look like a mail server on this port.`, 'permanent'));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new StepError(`The connection failed while waiting for ${what}: ${err.message}.`, 'transient'));
    };
    const onClose = () => {
      cleanup();
      reject(new StepError(`The server closed the connection while we waited for ${what}.`, 'transient'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new StepError(`The server did not send ${what} within ${seconds(timeoutMs)}. Check that the port and security setting match the server.`, 'transient'));
    }, timeoutMs);
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

export function firstLine(text: string): string {
  return text.split(/\r?\n/)[0].slice(0, 200);
}
