import type { Migration } from 'kysely';

export const mailMigrations: Record<string, Migration> = {};
