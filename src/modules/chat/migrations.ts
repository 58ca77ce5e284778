import type { Migration } from 'kysely';

export const chatMigrations: Record<string, Migration> = {};
