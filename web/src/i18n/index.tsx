// One i18n layer for the whole console: typed dictionaries (en is the source of keys; ru must have
// every key, which the compiler checks) and `useT()` returning `t(key, vars)`.
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { en, type Dict } from './en.js';
import { ru } from './ru.js';

export type Language = 'en' | 'ru';
export type TKey = keyof Dict;
export const LANGUAGES: { value: Language; label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'ru', label: 'Русский' },
];

const dictionaries: Record<Language, Dict> = { en, ru };

export type T = (key: TKey, vars?: Record<string, string | number>) => string;

const LangContext = createContext<Language>('en');

export function LanguageProvider({ language, children }: { language: Language; children: ReactNode }) {
  return <LangContext.Provider value={language}>{children}</LangContext.Provider>;
}

export function normalizeLanguage(x: string | null | undefined): Language {
  return x === 'ru' ? 'ru' : 'en';
}

export function translate(language: Language, key: TKey, vars?: Record<string, string | number>): string {
  let s: string = dictionaries[language][key] ?? en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function useLanguage(): Language {
  return useContext(LangContext);
}

export function useT(): T {
  const language = useContext(LangContext);
  return useMemo(() => (key: TKey, vars?: Record<string, string | number>) => translate(language, key, vars), [language]);
}
