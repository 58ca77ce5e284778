// Can Telegram's servers reach this installation at SiteUrl? Names and addresses that only mean
// something inside a machine or a private network cannot be a public webhook target, so the
// channel falls back to long polling instead of registering a webhook that can never be called.
import { isIP } from 'node:net';

function privateIpv4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return (
    a === 10 || a === 127 || a === 0 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127) // carrier-grade NAT
  );
}

function privateIpv6(ip: string): boolean {
  const v = ip.toLowerCase();
  if (v === '::1' || v === '::') return true;
  if (v.startsWith('fc') || v.startsWith('fd') || v.startsWith('fe80')) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  return mapped ? privateIpv4(mapped[1]) : false;
}

/** True when `url` names a host the public internet can reach (by its form; no DNS lookup). */
export function isPublicUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!host) return false;
  const kind = isIP(host);
  if (kind === 4) return !privateIpv4(host);
  if (kind === 6) return !privateIpv6(host);
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal') || host.endsWith('.lan') || host.endsWith('.home.arpa')) return false;
  // A bare name without a dot ("switchboard", "intranet") resolves only inside a network.
  return host.includes('.');
}

/** The webhook address of a channel. */
export function webhookUrl(siteUrl: string, kind: string, channelId: string): string {
  return `${siteUrl.replace(/\/+$/, '')}/webhooks/${kind}/${channelId}`;
}
