// Public face of the mail-providers module: provider catalog, domain directory, detection and the
// connection test (M1–M5).
import type { Platform } from '../../platform/index.js';
import type { App } from '../../platform/http/app.js';
import type { ProbeOptions } from '../../connectors/mail-probe/index.js';
import { createMailProvidersService, type MailProvidersService } from './service.js';
import { registerMailProvidersRoutes } from './routes.js';
import type { MxResolver } from './mx.js';

export {
  domainOf,
  loginFor,
  normalizeDomain,
  type ConnectionTestResult,
  type DetectResult,
  type DomainView,
  type MailProvidersService,
  type ProviderConfig,
  type ProviderInput,
  type ProviderView,
} from './service.js';
export { providerView, probeResultView, testResultView } from './routes.js';
export { normalizeEndpoint, USUAL_PORT } from './endpoints.js';
export type { MxResolver } from './mx.js';
export type { MailProvidersTables } from './tables.js';

export interface MailProvidersModule {
  service: MailProvidersService;
  registerRoutes(app: App): void;
}

export function createMailProvidersModule(
  platform: Pick<Platform, 'db' | 'secrets'> & Partial<Pick<Platform, 'jobs'>>,
  deps: { resolveMx?: MxResolver; probeOptions?: ProbeOptions } = {},
): MailProvidersModule {
  const service = createMailProvidersService({ db: platform.db, secrets: platform.secrets, jobs: platform.jobs, ...deps });
  return { service, registerRoutes: (app) => registerMailProvidersRoutes(app, service) };
}
