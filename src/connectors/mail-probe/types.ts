// Connection test of one mail endpoint (M5): the steps run in order and stop at the first failure,
// each with its own timeout, and every failure is explained in words a user can act on.

export type ProbeSecurity = 'ssl' | 'starttls' | 'none';
export type ProbeStepName = 'dns' | 'tcp' | 'tls' | 'greeting' | 'login' | 'capability';

/** How a caller should treat a failure (connectors classify, modules decide). */
export type ProbeErrorKind = 'auth' | 'transient' | 'permanent';

export interface ProbeTarget {
  host: string;
  port: number;
  security: ProbeSecurity;
  /** Omit both to test everything up to (and excluding) the login. */
  user?: string;
  password?: string;
  /** Accept self-signed / untrusted certificates (on-premises servers; tests). */
  allowSelfSigned?: boolean;
}

export interface ProbeStep {
  step: ProbeStepName;
  ok: boolean;
  /** The step did not apply (e.g. TLS with security "none", login without credentials). */
  skipped?: boolean;
  ms: number;
  message: string;
}

export interface ProbeResult {
  protocol: 'imap' | 'smtp' | 'https';
  host: string;
  port: number;
  ok: boolean;
  steps: ProbeStep[];
  failedStep: ProbeStepName | null;
  /** One sentence for the user: what failed and what to check, or what worked. */
  message: string;
  errorKind: ProbeErrorKind | null;
  /** IMAP CAPABILITY atoms or SMTP EHLO keywords seen after TLS (and login, for IMAP). */
  capabilities: string[];
  /** IMAP only, after a successful login: the folder marked \Sent (SPECIAL-USE), if any. */
  sentFolder?: string | null;
}

export interface ProbeOptions {
  /** Per-step timeout in ms (default 10 s; DNS uses the smaller of this and 5 s). */
  stepTimeoutMs?: number;
  /** Host name → addresses; defaults to node:dns lookup. Injectable for tests. */
  lookup?: (host: string) => Promise<string[]>;
}
