import type { Migration } from 'kysely';

export const crmMigrations: Record<string, Migration> = {};
