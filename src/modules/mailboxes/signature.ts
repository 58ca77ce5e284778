// Signature HTML (B4) is pasted from mail clients, so it is hostile input: it is sanitised when saved
// (it is later inserted into outgoing mail and shown in the console). Kept: formatting, tables,
// links, inline styles limited to presentational properties, and images whose source is a raster
// data: URL, a cid: reference (an attachment of the message) or an http(s) URL. Dropped: scripts,
// event handlers, forms, iframes, SVG data URLs (they can carry script), javascript: links.
import sanitizeHtml from 'sanitize-html';

const SAFE_DATA_IMAGE = /^data:image\/(png|jpe?g|gif|webp|bmp);base64,[a-z0-9+/=\s]+$/i;
const CSS_VALUE = [/^[#a-z0-9 .,%()'"-]+$/i];

export const MAX_SIGNATURE_BYTES = 512 * 1024;

export function sanitizeSignature(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: [
      'a', 'b', 'strong', 'i', 'em', 'u', 's', 'strike', 'sub', 'sup', 'small', 'big', 'font', 'span', 'div', 'p', 'br', 'hr',
      'blockquote', 'pre', 'code', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
      'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'colgroup', 'col', 'caption', 'center', 'img',
    ],
    allowedAttributes: {
      '*': ['style', 'align', 'valign', 'width', 'height', 'dir', 'title', 'bgcolor', 'color'],
      a: ['href', 'target', 'rel', 'name'],
      img: ['src', 'alt', 'width', 'height', 'border'],
      font: ['face', 'size', 'color'],
      table: ['border', 'cellpadding', 'cellspacing', 'role'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['data', 'cid', 'http', 'https'] },
    allowProtocolRelative: false,
    allowedStyles: {
      '*': Object.fromEntries(
        [
          'color', 'background-color', 'background', 'font', 'font-family', 'font-size', 'font-weight', 'font-style', 'text-decoration',
          'text-align', 'vertical-align', 'line-height', 'letter-spacing', 'white-space', 'width', 'height', 'max-width', 'min-width',
          'margin', 'margin-top', 'margin-bottom', 'margin-left', 'margin-right', 'padding', 'padding-top', 'padding-bottom',
          'padding-left', 'padding-right', 'border', 'border-top', 'border-bottom', 'border-left', 'border-right', 'border-color',
          'border-width', 'border-style', 'border-collapse', 'border-radius', 'display',
        ].map((p) => [p, CSS_VALUE]),
      ),
    },
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
    transformTags: {
      img: (tagName, attribs) => {
        const src = (attribs.src ?? '').trim();
        if (/^data:/i.test(src) && !SAFE_DATA_IMAGE.test(src)) {
          const { src: _drop, ...rest } = attribs;
          return { tagName, attribs: rest };
        }
        return { tagName, attribs };
      },
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'noopener noreferrer' } }),
    },
  }).trim();
}
