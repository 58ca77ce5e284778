// Public face of the identity module: users, roles, sessions, API tokens, system operations (P1, P2).
export { createIdentityService, ADMINISTRATORS_ROLE, type IdentityService, type UserView, type RoleView } from './service.js';
export { registerIdentityRoutes } from './routes.js';
export { createAuthenticator } from './authenticator.js';
export type { IdentityTables } from './tables.js';
