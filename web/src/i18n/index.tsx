// One i18n layer for the whole console: typed dictionaries (en is the source of keys; ru must have
// every key, which the compiler checks) and `useT()` returning `t(key, vars)`. The pure part lives
// in translate.ts so unit tests and non-React code use the same function.
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { setCurrentLanguage, translate, type Language, type T, type Vars } from './translate.js';

export { currentLanguage, hasKey, normalizeLanguage, translate, tr, type Language, type T, type TKey, type Vars } from './translate.js';

export const LANGUAGES: { value: Language; label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'ru', label: 'Русский' },
];

const LangContext = createContext<Language>('en');

export function LanguageProvider({ language, children }: { language: Language; children: ReactNode }) {
  setCurrentLanguage(language);
  return <LangContext.Provider value={language}>{children}</LangContext.Provider>;
}

export function useLanguage(): Language {
  return useContext(LangContext);
}

export function useT(): T {
  const language = useContext(LangContext);
  return useMemo(() => (key, vars?: Vars) => translate(language, key, vars), [language]);
}
