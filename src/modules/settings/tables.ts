// Table types of the settings module (see src/platform/db/index.ts for the cross-dialect conventions).
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SettingsTables {}
