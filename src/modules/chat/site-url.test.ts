import { describe, expect, it } from 'vitest';
import { isPublicUrl, webhookUrl } from './site-url.js';

describe('isPublicUrl', () => {
  it('refuses loopback, private ranges, link-local and local names', () => {
    for (const u of [
      'http://localhost:3000', 'http://127.0.0.1:3000', 'https://10.1.2.3', 'https://172.16.0.1', 'https://172.31.255.1', 'https://192.168.1.10',
      'https://169.254.1.1', 'http://[::1]:3000', 'https://[fd00::1]', 'https://crm.local', 'https://box.localhost', 'https://intranet', 'not a url', 'ftp://example.com',
    ]) expect(isPublicUrl(u), u).toBe(false);
  });
  it('accepts public names and addresses', () => {
    for (const u of ['https://crm.example.com', 'http://example.org:8443/sb', 'https://8.8.8.8', 'https://172.32.0.1', 'https://[2001:db8::1]']) expect(isPublicUrl(u), u).toBe(true);
  });
  it('builds the webhook address under SiteUrl', () => {
    expect(webhookUrl('https://crm.example.com/sb/', 'telegram', 'abc')).toBe('https://crm.example.com/sb/webhooks/telegram/abc');
  });
});
