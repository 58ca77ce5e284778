import type { Migration } from 'kysely';

export const settingsMigrations: Record<string, Migration> = {};
