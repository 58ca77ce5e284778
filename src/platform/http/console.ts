// Serves the web console (built by Vite into dist/web) at `/`. Files are served as they are;
// any other GET outside /api, /webhooks and /rest falls back to index.html so the console's own
// router handles deep links like /profile/mailboxes/<id>. Hashed assets are cached for a year,
// index.html never (a new build must reach browsers at once).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { App } from './app.js';
import { errorBody } from './errors.js';

const SERVER_PREFIXES = ['/api/', '/webhooks/', '/rest/'];

/**
 * Content-Security-Policy of the console. Mail bodies are third-party HTML shown inside the page, so
 * the policy is the second wall after the sanitisers (server sanitize-html, then DOMPurify in
 * MailBody): nothing but the console's own scripts run, and no remote stylesheet, font, media,
 * frame, form target or connection is allowed. `style-src 'unsafe-inline'` is needed by the
 * component kit's <style> tags and by the style attributes of mail.
 *
 * Images are the one exception: `img-src` allows http(s). A CSP is per document and cannot be
 * switched per message, and "Show images" has to load the sender's images (and CSS backgrounds,
 * which also fall under img-src) directly — there is no image proxy. So remote images are blocked
 * by the sanitisers until the user asks (remote `src` → `data-blocked-src`, remote `url()` in
 * styles → `data-blocked-style`), not by the CSP. With an image proxy this could become
 * `img-src 'self' data: blob:`.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http:",
  "font-src 'self' data:",
  "media-src 'self' blob: data:",
  // 'self' covers the realtime WebSocket (ws/wss to this host).
  "connect-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

export async function registerConsole(app: App, opts: { distDir: string }): Promise<void> {
  const root = path.resolve(opts.distDir);
  // `serve: false`: only decorates reply.sendFile; the route below decides what to send.
  await app.register(fastifyStatic, { root, serve: false });

  app.get('/*', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const urlPath = decodeURIComponentSafe(request.url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/');
    if (urlPath === '/api' || urlPath === '/webhooks' || SERVER_PREFIXES.some((p) => urlPath.startsWith(p))) {
      return reply.status(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${urlPath}.`));
    }
    reply
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'SAMEORIGIN')
      .header('content-security-policy', CONSOLE_CSP);
    if (urlPath && urlPath !== '/') {
      const file = path.resolve(root, '.' + path.posix.normalize(urlPath));
      // Never step outside dist/web, whatever the path says.
      if (file.startsWith(root + path.sep) && isFile(file)) {
        const rel = path.relative(root, file);
        const immutable = rel.startsWith('assets' + path.sep);
        return reply.sendFile(rel, { cacheControl: true, maxAge: immutable ? 365 * 24 * 3600 * 1000 : 0, immutable });
      }
      // A missing file with an extension is a real 404 (a stale asset), not a console route.
      if (/\.[a-z0-9]{1,8}$/i.test(urlPath)) return reply.status(404).send(errorBody('NOT_FOUND', `No file ${urlPath}.`));
    }
    if (!isFile(path.join(root, 'index.html'))) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built. Run `npm run build` (npm start does it for you) and reload.');
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}

function isFile(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isFile();
  } catch {
    return false;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
