// Public face of the mail connection test (M5). Modules call `probeImap`/`probeSmtp` (or
// `probeHttps` for an Exchange service address) and show `message` / `steps` to the user.
import { probeImap } from './imap.js';
import { probeSmtp } from './smtp.js';
import { StepRecorder, connectTcp, resolveHost, startTls } from './steps.js';
import type { ProbeOptions, ProbeResult, ProbeTarget } from './types.js';

export { probeImap, probeSmtp };
export type { ProbeErrorKind, ProbeOptions, ProbeResult, ProbeSecurity, ProbeStep, ProbeStepName, ProbeTarget } from './types.js';

/**
 * Exchange / Microsoft 365 service address: DNS → TCP → TLS on 443. The sign-in test needs the
 * EWS/Graph connectors (a later issue); until then the login step is reported as skipped.
 */
export async function probeHttps(target: Pick<ProbeTarget, 'host' | 'allowSelfSigned'> & { port?: number }, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const full: ProbeTarget = { host: target.host, port: target.port ?? 443, security: 'ssl', allowSelfSigned: target.allowSelfSigned };
  const rec = new StepRecorder();
  try {
    const address = await rec.run('dns', () => resolveHost(full, opts));
    const socket = await rec.run('tcp', () => connectTcp(address, full, opts));
    const secure = await rec.run('tls', () => startTls(socket, full, opts, 'implicit'));
    secure.destroy();
    rec.skip('login', 'Signing in to Exchange services is not tested yet (it needs the Exchange connector).');
  } catch {
    return rec.result('https', full, '');
  }
  return rec.result('https', full, `Reached ${full.host}:${full.port} over HTTPS; sign-in was not tested.`);
}

/** Runs the IMAP and SMTP tests side by side (they are independent servers). */
export async function probeBoth(
  imap: ProbeTarget,
  smtp: ProbeTarget,
  opts: ProbeOptions = {},
): Promise<{ ok: boolean; imap: ProbeResult; smtp: ProbeResult }> {
  const [i, s] = await Promise.all([probeImap(imap, opts), probeSmtp(smtp, opts)]);
  return { ok: i.ok && s.ok, imap: i, smtp: s };
}
