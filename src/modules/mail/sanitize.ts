// HTML bodies are stored as received and sanitised on display: scripts, event handlers, forms and
// frames are stripped; `cid:` images point at our attachment route; remote images are blocked by
// default (they are tracking beacons as often as not) unless the caller asks for them.
import sanitizeHtml from 'sanitize-html';

export function sanitizeEmailHtml(html: string, opts: { emailId: string; cidMap: Map<string, string>; allowRemoteImages: boolean }): { html: string; blockedImages: number } {
  let blocked = 0;
  const out = sanitizeHtml(html, {
    allowedTags: sanitizeHtml.defaults.allowedTags.concat(['img', 'font', 'center', 'span', 'div', 'table', 'thead', 'tbody', 'tr', 'td', 'th', 'style']).filter((t) => t !== 'style'),
    allowedAttributes: {
      '*': ['style', 'align', 'valign', 'width', 'height', 'bgcolor', 'color', 'dir', 'title'],
      a: ['href', 'name', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'data-blocked-src'],
      font: ['face', 'size', 'color'],
      td: ['colspan', 'rowspan', 'style', 'align', 'valign', 'width', 'bgcolor'],
      th: ['colspan', 'rowspan', 'style', 'align', 'valign', 'width', 'bgcolor'],
      table: ['border', 'cellpadding', 'cellspacing', 'style', 'width', 'bgcolor', 'align'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel', 'cid', 'data'],
    allowedSchemesByTag: { img: ['http', 'https', 'cid', 'data'] },
    allowProtocolRelative: false,
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' } }),
      img: (tagName, attribs) => {
        const src = attribs.src ?? '';
        if (/^cid:/i.test(src)) {
          const att = opts.cidMap.get(src.slice(4).replace(/^<|>$/g, '').toLowerCase());
          return { tagName, attribs: { ...attribs, src: att ? `/api/emails/${opts.emailId}/attachments/${att}` : '' } };
        }
        if (/^https?:/i.test(src) && !opts.allowRemoteImages) {
          blocked++;
          const { src: _s, ...rest } = attribs;
          return { tagName, attribs: { ...rest, 'data-blocked-src': src } };
        }
        return { tagName, attribs };
      },
    },
  });
  return { html: out, blockedImages: blocked };
}
