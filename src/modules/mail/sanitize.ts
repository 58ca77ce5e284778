// HTML bodies are stored as received and sanitised on display: scripts, event handlers, forms,
// frames, <style>, <link>, <svg>/<image>, srcset and the like are stripped; `cid:` images point at
// our attachment route; remote content is blocked by default (it is a tracking beacon as often as
// not) unless the caller asks for it.
//
// Remote content is an <img src> and any CSS in a style attribute (or a legacy `background`
// attribute, folded into the style) that loads an http(s) or protocol-relative URL. When blocked,
// an image keeps its URL in `data-blocked-src`; an element keeps its style, remote parts included,
// in `data-blocked-style` (what the console restores on "show images"), and the live style loses
// the declarations that load remote URLs; each blocked URL counts once in `blockedImages`.
// Relative and unknown-scheme URLs are dropped either way (a relative URL would make the reader's
// browser call our own API with their cookies), and incoming `data-blocked-*` attributes are
// dropped (only we set them).
import sanitizeHtml from 'sanitize-html';

export interface SanitizeOptions {
  emailId: string;
  cidMap: Map<string, string>;
  allowRemoteImages: boolean;
}

/** Browsers drop tab/newline anywhere in a URL and C0/space at its ends; so do we before judging it. */
function normaliseUrl(u: string): string {
  return u.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
}

/** http(s) or protocol-relative (URL parsers treat `\` like `/` in http(s) URLs). */
export function isRemoteUrl(u: string): boolean {
  return /^(https?:|[\\/]{2})/i.test(u);
}

// ---- style attributes --------------------------------------------------------------------------

/** CSS escapes (`\68` = "h", `\"`, line continuations) decoded, so the text we judge is the text we emit. */
function decodeCssEscapes(s: string): string {
  return s.replace(/\\(?:([0-9a-f]{1,6})(?:\r\n|[ \t\n\r\f])?|(\r\n|[\n\r\f])|([^]))/gi, (_m, hex: string | undefined, nl: string | undefined, ch: string | undefined) => {
    if (hex) {
      const cp = parseInt(hex, 16);
      return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : String.fromCodePoint(cp);
    }
    if (nl) return '';
    return ch ?? '';
  });
}

interface Target {
  start: number;
  end: number;
  value: string;
}

/**
 * Splits a (decoded, comment-free) style into declarations the way a CSS parser does (`;` inside
 * strings, url() or brackets does not split) and lists, per declaration, the URLs it may load:
 * url(...) contents and any string inside a function (image-set("…"), src("…"), cross-fade(…)).
 */
function scanDeclarations(css: string): { text: string; targets: Target[] }[] {
  const out: { text: string; targets: Target[] }[] = [];
  let start = 0;
  let depth = 0;
  let targets: Target[] = [];
  const flush = (end: number) => {
    out.push({ text: css.slice(start, end), targets: targets.map((t) => ({ ...t, start: t.start - start, end: t.end - start })) });
    targets = [];
  };
  const readString = (i: number): number => {
    const q = css[i];
    let j = i + 1;
    while (j < css.length && css[j] !== q && css[j] !== '\n') j++;
    return j; // index of the closing quote (or end)
  };
  let i = 0;
  while (i < css.length) {
    const c = css[i];
    if (c === '"' || c === "'") {
      const j = readString(i);
      if (depth > 0) targets.push({ start: i, end: Math.min(j + 1, css.length), value: css.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if ((c === 'u' || c === 'U') && /^url\(/i.test(css.slice(i, i + 4)) && !/[\w-]/.test(css[i - 1] ?? '')) {
      let j = i + 4;
      while (j < css.length && /[ \t\n\r\f]/.test(css[j])) j++;
      if (css[j] === '"' || css[j] === "'") {
        // url("…"): a function with a string argument.
        const k = readString(j);
        let end = k + 1;
        while (end < css.length && css[end] !== ')') end++;
        targets.push({ start: i, end: Math.min(end + 1, css.length), value: css.slice(j + 1, k) });
        i = end + 1;
      } else {
        // Unquoted url(…) runs to the next ")" (or the end: an unclosed url still loads).
        let end = j;
        while (end < css.length && css[end] !== ')') end++;
        targets.push({ start: i, end: Math.min(end + 1, css.length), value: css.slice(j, end) });
        i = end + 1;
      }
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    else if (c === ';' && depth === 0) {
      flush(i);
      start = i + 1;
    }
    i++;
  }
  flush(css.length);
  return out;
}

export interface CleanStyle {
  /** The style with remote URLs kept (relative/unknown URLs and dangerous declarations removed). */
  withRemote: string;
  /** The style without the declarations that load remote URLs. */
  withoutRemote: string;
  /** How many remote URLs the style loads. */
  remote: number;
}

/** Judges one style attribute; `resolveCid` maps "cid:…" to our attachment URL (or null). */
export function cleanStyle(style: string, opts: { resolveCid(ref: string): string | null }): CleanStyle {
  // Decode first, then drop comments: an escaped "/*" is a comment once decoded, and we emit decoded text.
  const css = decodeCssEscapes(style).replace(/\/\*[^]*?(?:\*\/|$)/g, '');
  const withRemote: string[] = [];
  const withoutRemote: string[] = [];
  let remote = 0;
  for (const decl of scanDeclarations(css)) {
    if (!decl.text.trim()) continue;
    // A backslash left after decoding would be re-read as an escape; old IE script hooks never belong in mail.
    if (/\\|expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:/i.test(decl.text)) continue;
    let text = '';
    let residue = '';
    let at = 0;
    let urls = 0;
    let bad = false;
    for (const t of decl.targets) {
      const u = normaliseUrl(t.value);
      let replacement: string | null = null;
      if (/^data:/i.test(u) && !/["'()]/.test(u)) replacement = null;
      else if (/^cid:/i.test(u)) {
        const url = opts.resolveCid(u);
        if (!url) bad = true;
        else replacement = `url("${url}")`;
      } else if (isRemoteUrl(u)) urls++;
      else bad = true;
      text += decl.text.slice(at, t.start) + (replacement ?? decl.text.slice(t.start, t.end));
      residue += decl.text.slice(at, t.start);
      at = t.end;
    }
    text = (text + decl.text.slice(at)).trim();
    residue += decl.text.slice(at);
    if (bad) continue;
    // Belt and braces: a remote-looking URL outside the targets (say, in a top-level string) counts too.
    if (urls === 0 && /https?:|\/\//i.test(residue)) urls = 1;
    withRemote.push(text);
    if (urls > 0) remote += urls;
    else withoutRemote.push(text);
  }
  return { withRemote: withRemote.join('; '), withoutRemote: withoutRemote.join('; '), remote };
}

// ---- the document ------------------------------------------------------------------------------

// Not allowed, so removed with their content or attributes: style, link, svg, image, picture,
// source, video, audio, object, embed, iframe, form, input, meta, base; srcset, background.
const ALLOWED_TAGS = sanitizeHtml.defaults.allowedTags.concat(['img', 'font', 'center', 'span', 'div', 'table', 'thead', 'tbody', 'tr', 'td', 'th']);
const ALLOWED = new Set(ALLOWED_TAGS);

export function sanitizeEmailHtml(html: string, opts: SanitizeOptions): { html: string; blockedImages: number } {
  let blocked = 0;
  const attachmentUrl = (cidRef: string): string | null => {
    const att = opts.cidMap.get(cidRef.slice(4).replace(/^<|>$/g, '').toLowerCase());
    return att ? `/api/emails/${opts.emailId}/attachments/${att}` : null;
  };
  const out = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      '*': ['style', 'align', 'valign', 'width', 'height', 'bgcolor', 'color', 'dir', 'title', 'data-blocked-style'],
      a: ['href', 'name', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'data-blocked-src'],
      font: ['face', 'size', 'color'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan'],
      table: ['border', 'cellpadding', 'cellspacing'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel', 'cid', 'data'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowProtocolRelative: false,
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' } }),
      img: (tagName, attribs) => {
        const { src: rawSrc, 'data-blocked-src': _incoming, ...rest } = attribs;
        const src = normaliseUrl(rawSrc ?? '');
        if (/^cid:/i.test(src)) {
          const url = attachmentUrl(src);
          return { tagName, attribs: url ? { ...rest, src: url } : rest };
        }
        if (isRemoteUrl(src)) {
          const url = /^https?:/i.test(src) ? src : `https://${src.slice(2)}`;
          if (opts.allowRemoteImages) return { tagName, attribs: { ...rest, src: url } };
          blocked++;
          return { tagName, attribs: { ...rest, 'data-blocked-src': url } };
        }
        // data: images stay; relative URLs and other schemes go.
        return { tagName, attribs: /^data:image\//i.test(src) ? { ...rest, src } : rest };
      },
      // Runs on every element, after the element's own transform above.
      '*': (tagName, attribs) => {
        // A tag about to be dropped must not count blocked images.
        if (!ALLOWED.has(tagName)) return { tagName, attribs };
        const { style, background, 'data-blocked-style': _incoming, ...rest } = attribs;
        const bg = background !== undefined ? normaliseUrl(background) : '';
        const legacy = bg && !/["'()\\]/.test(bg) ? `background-image:url("${bg}");` : '';
        const source = legacy + (style ?? '');
        if (!source.trim()) return { tagName, attribs: rest };
        const s = cleanStyle(source, { resolveCid: attachmentUrl });
        if (opts.allowRemoteImages || s.remote === 0) return { tagName, attribs: s.withRemote ? { ...rest, style: s.withRemote } : rest };
        blocked += s.remote;
        return { tagName, attribs: { ...rest, ...(s.withoutRemote ? { style: s.withoutRemote } : {}), 'data-blocked-style': s.withRemote } };
      },
    },
  });
  return { html: out, blockedImages: blocked };
}
