import type { Kysely, Migration } from 'kysely';

const ts = 'varchar(30)';

export const identityMigrations: Record<string, Migration> = {
  '0100_identity_base': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('email', 'varchar(320)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('language', 'varchar(8)', (c) => c.notNull().defaultTo('en'))
        .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addColumn('last_login_at', ts)
        .execute();
      await db.schema
        .createTable('roles')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('user_roles')
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role_id', 'varchar(36)', (c) => c.notNull().references('roles.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_id'])
        .execute();
      await db.schema.createIndex('user_roles_role_idx').on('user_roles').column('role_id').execute();
      await db.schema
        .createTable('role_children')
        .addColumn('parent_role_id', 'varchar(36)', (c) => c.notNull().references('roles.id').onDelete('cascade'))
        .addColumn('child_role_id', 'varchar(36)', (c) => c.notNull().references('roles.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('role_children_pk', ['parent_role_id', 'child_role_id'])
        .execute();
      await db.schema.createIndex('role_children_child_idx').on('role_children').column('child_role_id').execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts, (c) => c.notNull())
        .addColumn('last_seen_at', ts, (c) => c.notNull())
        .addColumn('user_agent', 'text')
        .addColumn('ip', 'varchar(64)')
        .execute();
      await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('prefix', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('last_used_at', ts)
        .addColumn('expires_at', ts)
        .execute();
      await db.schema
        .createTable('operation_grants')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('operation', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(36)', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('role_id', 'varchar(36)', (c) => c.references('roles.id').onDelete('cascade'))
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('operation_grants_user_idx').on('operation_grants').columns(['user_id', 'operation']).execute();
      await db.schema.createIndex('operation_grants_role_idx').on('operation_grants').columns(['role_id', 'operation']).execute();
    },
  },
};
