// Display sanitising of mail HTML: remote content (images and CSS that loads URLs) is blocked
// unless allowed, nothing may point at our own origin, and the usual HTML tricks do not get round it.
import { describe, expect, it } from 'vitest';
import { cleanStyle, sanitizeEmailHtml } from './sanitize.js';

const EMAIL = '0b8f3c1e-0000-4000-8000-000000000001';
const ATT = '0b8f3c1e-0000-4000-8000-0000000000aa';
const cidMap = new Map([['logo@x', ATT]]);
const blockedRun = (html: string) => sanitizeEmailHtml(html, { emailId: EMAIL, cidMap, allowRemoteImages: false });
const allowedRun = (html: string) => sanitizeEmailHtml(html, { emailId: EMAIL, cidMap, allowRemoteImages: true });
const resolveCid = (ref: string) => (ref.toLowerCase() === 'cid:logo@x' ? `/api/emails/${EMAIL}/attachments/${ATT}` : null);

/** Every URL the sanitised HTML makes a browser load, outside data-blocked-* attributes. */
function liveUrls(html: string): string[] {
  const live = html.replace(/\sdata-blocked-(?:src|style)="[^"]*"/g, '');
  return [...live.matchAll(/(?:src|href|srcset|background)="([^"]*)"|url\(\s*(?:&quot;|&#39;|["'])?([^)"'&]*)/gi)].map((m) => m[1] ?? m[2]);
}
const remoteIn = (html: string) => liveUrls(html).filter((u) => /^(https?:|\/\/)|tracker/i.test(u));

describe('remote images', () => {
  it('blocks <img src> http(s), protocol-relative and whitespace-padded URLs, keeping them in data-blocked-src', () => {
    const r = blockedRun('<img src="https://t.example/a.gif"><img src="//t.example/b.gif"><img src="  https://t.example/c.gif"><img src="\nhttp://t.example/d.gif">');
    expect(r.blockedImages).toBe(4);
    expect(remoteIn(r.html)).toEqual([]);
    expect(r.html).toContain('data-blocked-src="https://t.example/a.gif"');
    expect(r.html).toContain('data-blocked-src="https://t.example/b.gif"');
    expect(allowedRun('<img src="//t.example/b.gif">').html).toContain('src="https://t.example/b.gif"');
  });

  it('resolves cid: to our attachment route, keeps data: images, drops relative and odd schemes', () => {
    const r = blockedRun('<img src="cid:logo@x"><img src="data:image/png;base64,AAAA"><img src="/api/auth/logout"><img src="javascript:alert(1)"><img src="cid:missing@x">');
    expect(r.html).toContain(`src="/api/emails/${EMAIL}/attachments/${ATT}"`);
    expect(r.html).toContain('src="data:image/png;base64,AAAA"');
    expect(r.html).not.toMatch(/logout|javascript|missing/);
    expect(r.blockedImages).toBe(0);
  });

  it('ignores data-blocked-* attributes that come with the mail', () => {
    const r = blockedRun('<img src="data:image/png;base64,AA" data-blocked-src="https://evil.example/x"><div data-blocked-style="background:url(/api/x)">t</div>');
    expect(r.html).not.toContain('evil.example');
    expect(r.html).not.toContain('data-blocked-style');
  });
});

describe('remote content through CSS', () => {
  it('removes url(http…) from style, keeps the style in data-blocked-style and counts each URL', () => {
    const r = blockedRun('<div style="color:red;background:url(https://tracker.example/p.gif)">a</div><td style="background-image:url(\'//tracker.example/q.gif\'), url(&quot;http://tracker.example/r.gif&quot;)">b</td>');
    expect(r.blockedImages).toBe(3);
    expect(remoteIn(r.html)).toEqual([]);
    expect(r.html).toContain('style="color:red"');
    expect(r.html).toContain('data-blocked-style="color:red; background:url(https://tracker.example/p.gif)"');
    const allowed = allowedRun('<div style="color:red;background:url(https://tracker.example/p.gif)">a</div>');
    expect(allowed.blockedImages).toBe(0);
    expect(allowed.html).toContain('url(https://tracker.example/p.gif)');
    expect(allowed.html).not.toContain('data-blocked-style');
  });

  it('sees through entities, CSS escapes, comments, case, unclosed url( and whitespace', () => {
    const tricks = [
      'background:url(&#104;ttps://tracker.example/1)',
      'background:url(\\68ttps://tracker.example/2)',
      'background:\\75 rl(https://tracker.example/3)',
      'background:u/**/rl(https://tracker.example/4)',
      'background:URL( "HTTPS://tracker.example/5" )',
      'background:url(https://tracker.example/6',
      'background:url(  \t//tracker.example/7)',
      'list-style-image:url(https://tracker.example/8)',
      'background-image:image-set("https://tracker.example/9" 1x)',
      'background-image:-webkit-image-set(url(https://tracker.example/10) 1x)',
      'border-image:cross-fade(url(https://tracker.example/11), url(https://tracker.example/12))',
      'cursor:url(https://tracker.example/13), auto',
      'background:url(https:\\2f\\2ftracker.example/14)',
    ];
    for (const css of tricks) {
      const r = blockedRun(`<p style="${css.replace(/"/g, '&quot;')}">x</p>`);
      expect(remoteIn(r.html), css).toEqual([]);
      expect(r.html, css).not.toMatch(/\sstyle="[^"]*tracker/);
      expect(r.blockedImages, css).toBeGreaterThan(0);
    }
  });

  it('folds the legacy background attribute into the style, blocked or shown like any other', () => {
    const r = blockedRun('<table background="https://tracker.example/bg.gif"><tr><td background="cid:logo@x">x</td></tr></table>');
    expect(r.blockedImages).toBe(1);
    expect(remoteIn(r.html)).toEqual([]);
    expect(r.html).not.toContain(' background=');
    expect(r.html).toContain('data-blocked-style="background-image:url(&quot;https://tracker.example/bg.gif&quot;)"');
    expect(r.html).toContain(`style="background-image:url(&quot;/api/emails/${EMAIL}/attachments/${ATT}&quot;)"`);
    expect(allowedRun('<td background="https://x.example/bg.gif">x</td>').html).toContain('style="background-image:url(&quot;https://x.example/bg.gif&quot;)"');
  });

  it('drops relative and script URLs from style even when remote content is allowed', () => {
    const r = allowedRun('<div style="color:blue;background:url(/api/auth/logout);width:expression(alert(1));behavior:url(x.htc)">x</div>');
    expect(r.html).toContain('style="color:blue"');
    expect(r.html).not.toMatch(/logout|expression|htc/);
  });

  it('does not let <style>, <link>, srcset, <picture>, <svg>/<image>, <video poster> or <input type=image> through', () => {
    const html = [
      '<style>body{background:url(https://tracker.example/s)}</style>',
      '<link rel="stylesheet" href="https://tracker.example/l.css">',
      '<img src="data:image/png;base64,AA" srcset="https://tracker.example/1x.png 1x">',
      '<picture><source srcset="https://tracker.example/p.png"><img src="cid:logo@x"></picture>',
      '<svg><image href="https://tracker.example/svg.png" xlink:href="https://tracker.example/svg2.png"/></svg>',
      '<image src="https://tracker.example/image.png">',
      '<video poster="https://tracker.example/v.png"></video>',
      '<input type="image" src="https://tracker.example/i.png">',
      '<body background="https://tracker.example/body.png">',
      '<object data="https://tracker.example/o"></object><embed src="https://tracker.example/e">',
      '<meta http-equiv="refresh" content="0;url=https://tracker.example/m"><base href="https://tracker.example/">',
    ].join('');
    for (const run of [blockedRun, allowedRun]) {
      const r = run(html);
      expect(r.html).not.toContain('tracker.example');
      expect(r.html).not.toMatch(/<(style|link|source|svg|image|video|input|object|embed|meta|base)\b/i);
    }
  });

  it('keeps harmless styles and data: backgrounds as they are, counting nothing', () => {
    const r = blockedRun('<p style="font-family:&quot;Segoe UI&quot;, Arial;color:#333;background:url(data:image/png;base64,AAAA)">x</p>');
    expect(r.blockedImages).toBe(0);
    expect(r.html).toContain('font-family:&quot;Segoe UI&quot;, Arial');
    expect(r.html).toContain('url(data:image/png;base64,AAAA)');
  });
});

describe('cleanStyle', () => {
  it('splits declarations like a CSS parser (a ; inside url() or a string does not split)', () => {
    const s = cleanStyle('background:url("https://t.example/a;b");color:red', { resolveCid });
    expect(s).toEqual({ withRemote: 'background:url("https://t.example/a;b"); color:red', withoutRemote: 'color:red', remote: 1 });
  });

  it('drops a declaration left with a backslash after decoding (it would be re-read as an escape)', () => {
    expect(cleanStyle('color:red;font-family:a\\\\b', { resolveCid }).withRemote).toBe('color:red');
  });

  it('rewrites cid: in url() to the attachment route and drops unknown cids', () => {
    expect(cleanStyle('background:url(cid:logo@x);color:red', { resolveCid }).withoutRemote).toBe(`background:url("/api/emails/${EMAIL}/attachments/${ATT}"); color:red`);
    expect(cleanStyle('background:url(cid:other@x);color:red', { resolveCid }).withoutRemote).toBe('color:red');
  });
});
