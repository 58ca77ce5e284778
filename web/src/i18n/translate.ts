// The pure half of the i18n layer (no React): dictionaries, `translate`, and the language of the
// signed-in user for code that runs outside components (API error texts, toasts from events).
import { en, type Dict } from './en.js';
import { ru } from './ru.js';

export type Language = 'en' | 'ru';
export type TKey = keyof Dict;
export type Vars = Record<string, string | number>;
export type T = (key: TKey, vars?: Vars) => string;

const dictionaries: Record<Language, Dict> = { en, ru };

export function normalizeLanguage(x: string | null | undefined): Language {
  return x === 'ru' ? 'ru' : 'en';
}

export function hasKey(key: string): key is TKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

export function translate(language: Language, key: TKey, vars?: Vars): string {
  let s: string = dictionaries[language][key] ?? en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** `{name}` placeholders a text uses, sorted (the i18n test compares them across languages). */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

let current: Language = 'en';
/** Set by LanguageProvider on every render, so non-React code speaks the user's language. */
export function setCurrentLanguage(language: Language): void {
  current = language;
}
export function currentLanguage(): Language {
  return current;
}
/** `translate` in the current language, for code outside components. */
export const tr: T = (key, vars) => translate(current, key, vars);
