// Public face of the settings module (P3).
export { createSettingsService, type SettingsService, type SettingView } from './service.js';
export { registerSettingsRoutes } from './routes.js';
export { SETTINGS, type SettingDefinition } from './registry.js';
export { builtinNotificationSound } from './builtin-sound.js';
