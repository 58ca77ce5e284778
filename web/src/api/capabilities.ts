// Which API routes this server has, from its OpenAPI document (GET /api/openapi.json, public and
// always there). Lets the console show a feature only once its API exists — e.g. chat actions (H7)
// — instead of calling routes that answer 404. Fetched once per session.
import { useQuery } from '@tanstack/react-query';
import { get } from './client.js';
import { hasRoute, type OpenApiDoc } from './routes.js';

export { hasRoute };

export function useApiRoutes() {
  return useQuery({ queryKey: ['openapi'], queryFn: () => get<OpenApiDoc>('/api/openapi.json'), staleTime: Infinity, gcTime: Infinity, retry: false });
}

/** Whether every listed route exists (false while unknown). */
export function useHasRoutes(...routes: [method: string, path: string][]): boolean {
  const doc = useApiRoutes().data;
  return routes.every(([m, p]) => hasRoute(doc, m, p));
}
