// MX-based provider suggestion (M3 fallback): a company domain whose mail is hosted by Google or
// Microsoft has MX records under their names, so "acme.com → MX aspmx.l.google.com" suggests Gmail.
// Only a suggestion: the directory is not changed until the user creates a mailbox with it.
import { Resolver } from 'node:dns/promises';

export type MxResolver = (domain: string) => Promise<Array<{ exchange: string; priority: number }>>;

/** MX host suffix → preconfigured provider key. */
const MX_RULES: Array<{ suffixes: string[]; key: string }> = [
  { suffixes: ['google.com', 'googlemail.com'], key: 'gmail' },
  { suffixes: ['outlook.com', 'protection.outlook.com', 'hotmail.com'], key: 'microsoft365' },
  { suffixes: ['yahoodns.net'], key: 'yahoo' },
  { suffixes: ['zoho.com', 'zoho.eu', 'zoho.in'], key: 'zoho' },
  { suffixes: ['icloud.com', 'me.com'], key: 'icloud' },
  { suffixes: ['yandex.net', 'yandex.ru'], key: 'yandex' },
  { suffixes: ['mail.ru'], key: 'mailru' },
];

export function providerKeyForMx(exchanges: string[]): string | null {
  for (const raw of exchanges) {
    const host = raw.toLowerCase().replace(/\.$/, '');
    for (const rule of MX_RULES) {
      if (rule.suffixes.some((s) => host === s || host.endsWith(`.${s}`))) return rule.key;
    }
  }
  return null;
}

/** The system resolver with a short timeout and one try: detection must answer while the user types. */
export function systemMxResolver(timeoutMs = 2500): MxResolver {
  return async (domain) => {
    const r = new Resolver({ timeout: timeoutMs, tries: 1 });
    return r.resolveMx(domain);
  };
}

/** Resolves MX and maps it to a provider key; any DNS failure or timeout means "no suggestion". */
export async function suggestByMx(resolve: MxResolver, domain: string, timeoutMs = 3000): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const records = await Promise.race([
      resolve(domain),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('mx timeout')), timeoutMs);
      }),
    ]);
    const sorted = [...records].sort((a, b) => a.priority - b.priority).map((r) => r.exchange);
    return providerKeyForMx(sorted);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
