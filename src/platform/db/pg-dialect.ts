// PostgreSQL dialect whose introspection sees only this installation's schema.
//
// Kysely's PostgresIntrospector reads the tables of *every* schema, calling
// has_schema_privilege(name) and pg_get_serial_sequence(name) per row. When another schema is
// dropped while that scan runs (another installation sharing the database, a test tearing its
// schema down), those calls fail with `schema "…" does not exist` — and the migrator, which
// introspects to find its own tables, fails the start. Seen in CI as a flaky start of a test server.
// Switchboard only ever needs its own schema (SWITCHBOARD_PG_SCHEMA or the connection's default),
// so the scan is limited to current_schema().
import { PostgresDialect, sql, type DatabaseIntrospector, type DatabaseMetadata, type DatabaseMetadataOptions, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely';

interface ColumnRow {
  column: string;
  not_null: boolean;
  has_default: boolean;
  table: string;
  table_type: string;
  schema: string;
  type: string;
  type_schema: string;
  column_description: string | null;
  auto_incrementing: string | null;
}

class CurrentSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const r = await sql<{ name: string }>`select current_schema() as name`.execute(this.db);
    return r.rows.filter((s) => s.name);
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const internal = options.withInternalKyselyTables ? sql`` : sql`and c.relname not in ('kysely_migration', 'kysely_migration_lock')`;
    const r = await sql<ColumnRow>`
      select a.attname as column, a.attnotnull as not_null, a.atthasdef as has_default,
             c.relname as table, c.relkind as table_type, ns.nspname as schema,
             typ.typname as type, dtns.nspname as type_schema,
             col_description(a.attrelid, a.attnum) as column_description,
             pg_get_serial_sequence(quote_ident(ns.nspname) || '.' || quote_ident(c.relname), a.attname) as auto_incrementing
        from pg_catalog.pg_attribute a
        join pg_catalog.pg_class c on a.attrelid = c.oid
        join pg_catalog.pg_namespace ns on c.relnamespace = ns.oid
        join pg_catalog.pg_type typ on a.atttypid = typ.oid
        join pg_catalog.pg_namespace dtns on typ.typnamespace = dtns.oid
       where ns.nspname = current_schema()
         and c.relkind in ('r', 'v', 'p')
         and a.attnum >= 0 and not a.attisdropped
         ${internal}
       order by c.relname, a.attnum`.execute(this.db);
    const tables = new Map<string, { name: string; schema: string; isView: boolean; columns: TableMetadata['columns'][number][] }>();
    for (const c of r.rows) {
      let t = tables.get(c.table);
      if (!t) {
        t = { name: c.table, schema: c.schema, isView: c.table_type === 'v', columns: [] };
        tables.set(c.table, t);
      }
      t.columns.push({
        name: c.column,
        dataType: c.type,
        dataTypeSchema: c.type_schema,
        hasDefaultValue: c.has_default,
        isAutoIncrementing: c.auto_incrementing !== null,
        isNullable: !c.not_null,
        comment: c.column_description ?? undefined,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

export class SchemaScopedPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}
