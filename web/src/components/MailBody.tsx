// Shows a message body safely: the HTML (already sanitised by the server) goes through DOMPurify
// again here, remote images stay blocked (a placeholder instead) until the user asks to show them,
// and links open in a new tab without a referrer.
import { useMemo, useState } from 'react';
import DOMPurify from 'dompurify';
import { Alert, Button, Group, Text } from '@mantine/core';
import { IconPhotoOff } from '@tabler/icons-react';
import { useT } from '../i18n/index.js';

export function prepareMailHtml(html: string, showImages: boolean): { html: string; blocked: number } {
  const clean = DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'script', 'iframe', 'object', 'embed', 'form', 'input', 'button', 'link', 'meta', 'base'],
    FORBID_ATTR: ['srcset'],
    ADD_ATTR: ['target', 'data-blocked-src'],
    ADD_DATA_URI_TAGS: ['img'],
    RETURN_DOM_FRAGMENT: true,
  }) as DocumentFragment;
  let blocked = 0;
  clean.querySelectorAll('img').forEach((img) => {
    const remote = img.getAttribute('data-blocked-src') ?? (/^https?:/i.test(img.getAttribute('src') ?? '') ? img.getAttribute('src') : null);
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
    ph.textContent = img.getAttribute('alt') || 'image';
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
  const prepared = useMemo(() => (html ? prepareMailHtml(html, showImages) : null), [html, showImages]);
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
