import type { Migration } from 'kysely';

export const leasesMigrations: Record<string, Migration> = {};
