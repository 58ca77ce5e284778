// Pure part of capabilities.ts (no fetch, no DOM types): does an OpenAPI document list a route.
export interface OpenApiDoc {
  paths?: Record<string, Record<string, unknown>>;
}

/** True when the document lists `method` on a path matching `path` (`{param}` matches any param name). */
export function hasRoute(doc: OpenApiDoc | undefined, method: string, path: string): boolean {
  if (!doc?.paths) return false;
  const want = path.replace(/\{[^}]+\}/g, '{}');
  return Object.entries(doc.paths).some(([p, ops]) => p.replace(/\{[^}]+\}/g, '{}') === want && !!ops && method.toLowerCase() in ops);
}
