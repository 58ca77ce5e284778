// The console speaks through one i18n layer (W1): English and Russian have the same keys and the
// same {placeholders}, and no English text is written straight into the console's JSX.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// Vite's own parser (rolldown ships with vite): reads TSX exactly as the build does.
import { parseAst } from 'rolldown/parseAst';
import { en } from '../../web/src/i18n/en.js';
import { ru } from '../../web/src/i18n/ru.js';
import { hasKey, placeholders, translate } from '../../web/src/i18n/translate.js';

describe('console dictionaries', () => {
  it('English and Russian have the same keys', () => {
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
  });

  it('every text uses the same {placeholders} in both languages', () => {
    const wrong = Object.keys(en).filter((k) => placeholders(en[k as keyof typeof en]).join() !== placeholders(ru[k as keyof typeof ru]).join());
    expect(wrong).toEqual([]);
  });

  it('no Russian text is left in English, and no English text in Russian', () => {
    // Same text in both is fine for names and symbols (no letters of either alphabet to translate).
    const untranslated = Object.keys(en).filter((k) => {
      const r = ru[k as keyof typeof ru];
      return /[A-Za-z]{3,}/.test(r.replace(/\{\w+\}/g, '')) && !ALLOWED_LATIN_IN_RU.some((w) => r.includes(w)) && r === en[k as keyof typeof en];
    });
    expect(untranslated).toEqual([]);
    expect(Object.keys(en).filter((k) => /[А-Яа-яЁё]/.test(en[k as keyof typeof en]))).toEqual([]);
  });

  it('fills placeholders, everywhere they occur', () => {
    expect(translate('en', 'mailbox.removeTitle', { email: 'a@b.c' })).toBe('Remove a@b.c');
    expect(translate('ru', 'mail.imagesBlocked', { n: 2 })).toContain('2');
  });
});

/** Brand, protocol and product names and sample values that are the same in every language. */
const ALLOWLIST = new Set([
  'Switchboard',
  'SSL/TLS',
  'STARTTLS',
  'OAuth 2.0',
  'IMAP / SMTP',
  'IMAP/SMTP',
  'Exchange',
  'Exchange / Microsoft 365',
  'Telegram',
  'English',
  'imap.example.com',
  'smtp.example.com',
  'example.com',
  'name@company.com',
  'outlook.office365.com',
  '123456789:AA…',
  'https://',
]);
const ALLOWED_LATIN_IN_RU = ['CRM', 'Telegram', 'OAuth', 'IMAP', 'SMTP', 'Gmail', 'Exchange', 'TLS', 'STARTTLS', 'TCP', 'DNS', 'URL', 'BotFather', 'Switchboard', 'ID', 'Mail.ru'];

/** Attributes whose string value the user reads. */
const TEXT_ATTRS = new Set(['label', 'placeholder', 'title', 'description', 'aria-label', 'alt', 'error', 'message', 'confirm', 'cancel']);
/** Object keys whose string value the user reads (Select data, links, toasts). */
const TEXT_KEYS = new Set(['label', 'title', 'message']);
/** Calls whose string arguments the user reads. */
const TEXT_CALLS = new Set(['prompt', 'alert', 'confirm']);

// A dictionary key (`label: 'nav.email'` handed to t() later) is not text either.
const english = (s: string) => /[A-Za-z]{2,}/.test(s) && !ALLOWLIST.has(s.trim()) && !hasKey(s);

interface Finding {
  file: string;
  line: number;
  text: string;
}

function lineOf(code: string, offset: number): number {
  return code.slice(0, offset).split('\n').length;
}

/** String literals an expression shows as-is (not those it compares, passes to t(), etc.). */
function shownStrings(node: any, out: any[]): void {
  if (!node) return;
  switch (node.type) {
    case 'Literal':
      if (typeof node.value === 'string') out.push(node);
      return;
    case 'TemplateLiteral':
      for (const q of node.quasis) out.push({ ...q, value: q.value.cooked ?? '' });
      return;
    case 'ConditionalExpression':
      shownStrings(node.consequent, out);
      shownStrings(node.alternate, out);
      return;
    case 'LogicalExpression':
      shownStrings(node.right, out);
      if (node.operator !== '&&') shownStrings(node.left, out);
      return;
    case 'BinaryExpression':
      if (node.operator === '+') {
        shownStrings(node.left, out);
        shownStrings(node.right, out);
      }
      return;
    case 'TSAsExpression':
    case 'ParenthesizedExpression':
      shownStrings(node.expression, out);
      return;
  }
}

function scan(file: string, code: string): Finding[] {
  const found: Finding[] = [];
  const add = (node: any, text: string) => {
    if (english(text)) found.push({ file, line: lineOf(code, node.start), text: text.trim() });
  };
  const visit = (node: any, parent: any): void => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'JSXText') add(node, node.value);
    if (node.type === 'JSXExpressionContainer' && parent?.type !== 'JSXAttribute') {
      const strings: any[] = [];
      shownStrings(node.expression, strings);
      for (const s of strings) add(s, String(s.value));
    }
    if (node.type === 'JSXAttribute' && node.value && TEXT_ATTRS.has(String(node.name?.name))) {
      const strings: any[] = [];
      shownStrings(node.value.type === 'JSXExpressionContainer' ? node.value.expression : node.value, strings);
      for (const s of strings) add(s, String(s.value));
    }
    if (node.type === 'Property' && !node.computed && TEXT_KEYS.has(node.key?.name ?? node.key?.value)) {
      const strings: any[] = [];
      shownStrings(node.value, strings);
      for (const s of strings) add(s, String(s.value));
    }
    if (node.type === 'CallExpression') {
      const callee = node.callee?.type === 'MemberExpression' ? node.callee.property?.name : node.callee?.name;
      if (TEXT_CALLS.has(callee)) for (const a of node.arguments) if (a.type === 'Literal' && typeof a.value === 'string') add(a, a.value);
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'start' || k === 'end') continue;
      if (Array.isArray(v)) for (const c of v) visit(c, node);
      else if (v && typeof v === 'object') visit(v, node);
    }
  };
  visit(parseAst(code, { lang: file.endsWith('.tsx') ? 'tsx' : 'ts' }), null);
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return p.endsWith(path.join('src', 'i18n')) ? [] : sources(p);
    return /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('console sources', () => {
  it('the scan finds English written straight into JSX (it is not blind)', () => {
    const sample = `export const A = () => <Button label="Bold" title={ok ? 'Open' : t('x')}>Cc/Bcc {' · Cc: '}{n > 1 && 'items'}</Button>;\nwindow.prompt('URL', 'https://');\nconst d = [{ value: 'x', label: 'Open' }];`;
    expect(scan('sample.tsx', sample).map((f) => f.text)).toEqual(['Bold', 'Open', 'Cc/Bcc', '· Cc:', 'items', 'URL', 'Open']);
    // Keys passed to t(), comparisons, test ids and class names are not text.
    expect(scan('ok.tsx', `const B = () => <Text data-testid="email-row" className="list-row" c={kind === 'contacts' ? 'indigo' : 'cyan'}>{t('mail.reply')}</Text>;`)).toEqual([]);
  });

  it('no English text is written straight into the console (all through web/src/i18n)', () => {
    const root = path.resolve('web/src');
    const findings = sources(root).flatMap((f) => scan(path.relative(root, f), readFileSync(f, 'utf8')));
    expect(findings.map((f) => `${f.file}:${f.line} ${JSON.stringify(f.text)}`)).toEqual([]);
  });
});
