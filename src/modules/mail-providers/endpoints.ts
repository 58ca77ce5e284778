// Security ↔ port rules for provider endpoints (M1). Choosing a security fills the usual port and
// vice versa; an unusual combination that was given explicitly is accepted (real servers run on odd
// ports), except SMTP port 455, which appears in some vendor docs as a typo for 465.
import net from 'node:net';
import type { FieldProblem } from '../../platform/http/errors.js';
import type { Endpoint, Security } from '../mailboxes/types.js';

export type EndpointKind = 'imap' | 'smtp';

export const USUAL_PORT: Record<EndpointKind, Record<Security, number>> = {
  imap: { ssl: 993, starttls: 143, none: 143 },
  smtp: { ssl: 465, starttls: 587, none: 25 },
};

/** Port → security when only the port is given. 143 means STARTTLS (never silently "none"). */
const SECURITY_OF_PORT: Record<EndpointKind, Record<number, Security>> = {
  imap: { 993: 'ssl', 143: 'starttls' },
  smtp: { 465: 'ssl', 587: 'starttls', 25: 'none' },
};

export interface EndpointInput {
  host?: string | null;
  port?: number | null;
  security?: Security | null;
}

const HOST_RE = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/;

export function normalizeHost(raw: string): string | null {
  const host = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(host)) return host;
  return HOST_RE.test(host) ? host.replace(/\.$/, '') : null;
}

/**
 * Completes an endpoint from what was given. `field` prefixes problem fields (e.g. "incoming").
 * Returns the endpoint, or pushes problems and returns null.
 */
export function normalizeEndpoint(kind: EndpointKind, input: EndpointInput, field: string, problems: FieldProblem[]): Endpoint | null {
  const before = problems.length;
  let host: string | null = null;
  if (!input.host || !input.host.trim()) {
    problems.push({ field: `${field}.host`, message: `The ${kind === 'imap' ? 'incoming' : 'outgoing'} server address is required.` });
  } else {
    host = normalizeHost(input.host);
    if (!host) problems.push({ field: `${field}.host`, message: 'Enter a server name like mail.example.com or an IP address (no "https://", no spaces).' });
  }
  let port = input.port ?? null;
  let security = input.security ?? null;
  if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    problems.push({ field: `${field}.port`, message: 'The port must be a whole number from 1 to 65535.' });
  }
  if (kind === 'smtp' && port === 455) {
    problems.push({
      field: `${field}.port`,
      message: 'Port 455 is not a mail submission port; it is a common typo for 465 (SSL/TLS). Use 465 for SSL/TLS or 587 for STARTTLS.',
    });
  }
  if (problems.length > before) return null;
  if (port === null && security === null) security = 'ssl';
  if (port === null) port = USUAL_PORT[kind][security!];
  if (security === null) {
    security = SECURITY_OF_PORT[kind][port] ?? null;
    if (!security) {
      problems.push({ field: `${field}.security`, message: `Port ${port} has no usual security; choose SSL/TLS, STARTTLS or none.` });
      return null;
    }
  }
  return { host: host!, port, security };
}

/** True when port and security are the usual pair (the console can warn about the others). */
export function isUsualPair(kind: EndpointKind, e: Endpoint): boolean {
  return USUAL_PORT[kind][e.security] === e.port || SECURITY_OF_PORT[kind][e.port] === e.security;
}
