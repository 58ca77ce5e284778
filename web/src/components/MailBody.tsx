// Shows a message body safely: the HTML (already sanitised by the server) goes through DOMPurify
// again here, remote images and remote CSS (background url()) stay blocked until the user asks to
// show them, and links open in a new tab without a referrer. The console's Content-Security-Policy
// (src/platform/http/console.ts) blocks remote scripts, styles, fonts, frames and media on top.
import { useMemo, useState } from 'react';
import DOMPurify from 'dompurify';
import { Alert, Button, Group, Text } from '@mantine/core';
import { IconPhotoOff } from '@tabler/icons-react';
import { useT } from '../i18n/index.js';

/** Remote (network) URLs: http(s) and protocol-relative. data: and same-site paths load nothing from outside. */
const REMOTE_URL = /^\s*(https?:|\/\/)/i;

/**
 * Removes every declaration of an inline style that would fetch something remote (url(...) or
 * image-set(...) with a network URL). The browser's own CSS parser reads the style, so escapes
 * and shorthands (`background: url(x) red`) are seen as the browser sees them. True if any went.
 */
function stripRemoteCss(el: HTMLElement): boolean {
  let removed = false;
  const style = el.style;
  for (let i = style.length - 1; i >= 0; i--) {
    const prop = style.item(i);
    const value = style.getPropertyValue(prop);
    const urls = [...value.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\s*\)/gi)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
    if (urls.some((u) => REMOTE_URL.test(u)) || (/image-set\(/i.test(value) && /https?:|\/\//i.test(value))) {
      style.removeProperty(prop);
      removed = true;
    }
  }
  if (removed && style.length === 0) el.removeAttribute('style');
  return removed;
}

/**
 * Prepares a message body for display. Remote content stays blocked until `showImages`:
 * `<img>` with a remote source (`data-blocked-src` from the server, or a remote `src`) becomes a
 * placeholder; styles the server moved to `data-blocked-style` (because they load remote images,
 * e.g. a background) stay there, and any remote url() still in a `style` is removed here too. After
 * "Show images" the images get their source back and `style` is restored from `data-blocked-style`.
 */
export function prepareMailHtml(html: string, showImages: boolean, imageLabel = 'image'): { html: string; blocked: number } {
  const clean = DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'script', 'iframe', 'object', 'embed', 'form', 'input', 'button', 'link', 'meta', 'base', 'video', 'audio', 'source', 'track', 'picture'],
    // `background` (td/table) and `poster` fetch images without any CSS.
    FORBID_ATTR: ['srcset', 'background', 'poster'],
    ADD_ATTR: ['target', 'data-blocked-src', 'data-blocked-style'],
    ADD_DATA_URI_TAGS: ['img'],
    RETURN_DOM_FRAGMENT: true,
  }) as DocumentFragment;
  let blocked = 0;
  clean.querySelectorAll<HTMLElement>('[style], [data-blocked-style]').forEach((el) => {
    const original = el.getAttribute('data-blocked-style');
    if (showImages) {
      if (original !== null) {
        el.setAttribute('style', original);
        el.removeAttribute('data-blocked-style');
      }
      return;
    }
    const stripped = el.hasAttribute('style') && stripRemoteCss(el);
    if (original !== null || stripped) blocked++;
  });
  clean.querySelectorAll('img').forEach((img) => {
    const remote = img.getAttribute('data-blocked-src') ?? (REMOTE_URL.test(img.getAttribute('src') ?? '') ? img.getAttribute('src') : null);
    if (!remote) return;
    if (showImages) {
      img.setAttribute('src', remote);
      img.removeAttribute('data-blocked-src');
      img.setAttribute('referrerpolicy', 'no-referrer');
      return;
    }
    blocked++;
    const ph = document.createElement('span');
    ph.className = 'blocked-image';
    ph.textContent = img.getAttribute('alt') || imageLabel;
    const w = img.getAttribute('width');
    const h = img.getAttribute('height');
    if (w && /^\d+$/.test(w)) ph.style.width = `${Math.min(Number(w), 600)}px`;
    if (h && /^\d+$/.test(h)) ph.style.height = `${Math.min(Number(h), 400)}px`;
    img.replaceWith(ph);
  });
  clean.querySelectorAll('a').forEach((a) => {
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener noreferrer nofollow');
  });
  const div = document.createElement('div');
  div.appendChild(clean);
  return { html: div.innerHTML, blocked };
}

export function MailBody({ html, text }: { html: string | null; text: string | null }) {
  const t = useT();
  const [showImages, setShowImages] = useState(false);
  const prepared = useMemo(() => (html ? prepareMailHtml(html, showImages, t('mail.imagePlaceholder')) : null), [html, showImages, t]);
  if (!prepared) {
    return (
      <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} className="mail-body" data-testid="mail-body">
        {text ?? ''}
      </Text>
    );
  }
  return (
    <>
      {prepared.blocked > 0 && (
        <Alert color="gray" variant="light" py={6} mb="sm" icon={<IconPhotoOff size={16} />} data-testid="images-blocked">
          <Group justify="space-between">
            <Text size="sm">{t('mail.imagesBlocked', { n: prepared.blocked })}</Text>
            <Button size="compact-xs" variant="default" onClick={() => setShowImages(true)}>
              {t('mail.showImages')}
            </Button>
          </Group>
        </Alert>
      )}
      <div className="mail-body" data-testid="mail-body" dangerouslySetInnerHTML={{ __html: prepared.html }} />
    </>
  );
}
