import type { Migration } from 'kysely';

export const jobsMigrations: Record<string, Migration> = {};
