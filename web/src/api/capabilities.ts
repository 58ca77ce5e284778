// Which API routes this server has, from its OpenAPI document (GET /api/openapi.json, public and
// always there). Lets the console show a feature only once its API exists — e.g. chat actions (H7)
// — instead of calling routes that answer 404. Fetched once per session.
import { useQuery } from '@tanstack/react-query';
import { get } from './client.js';

interface OpenApiDoc {
  paths?: Record<string, Record<string, unknown>>;
}

/** True when the document lists `method` on a path matching `path` (`{param}` matches any param name). */
export function hasRoute(doc: OpenApiDoc | undefined, method: string, path: string): boolean {
  if (!doc?.paths) return false;
  const want = path.replace(/\{[^}]+\}/g, '{}');
  return Object.entries(doc.paths).some(([p, ops]) => p.replace(/\{[^}]+\}/g, '{}') === want && !!ops && method.toLowerCase() in ops);
}

export function useApiRoutes() {
  return useQuery({ queryKey: ['openapi'], queryFn: () => get<OpenApiDoc>('/api/openapi.json'), staleTime: Infinity, gcTime: Infinity, retry: false });
}

/** Whether every listed route exists (false while unknown). */
export function useHasRoutes(...routes: [method: string, path: string][]): boolean {
  const doc = useApiRoutes().data;
  return routes.every(([m, p]) => hasRoute(doc, m, p));
}
