// `switchboard start | migrate | admin create | secrets rotate | sandbox` — `--help` on each.
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { openDatabase } from './platform/db/index.js';
import { migrateToLatest } from './platform/db/migrator.js';
import { SecretBox, generateKey } from './platform/crypto/secret-box.js';
import { loadKeyRing, writeKeyFile } from './platform/crypto/keyring.js';
import { createSecretStore } from './platform/crypto/secret-store.js';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';

// Heavy modules load inside the commands that need them, so `--help` and `migrate` stay quick.
const VERSION = '0.1.0';

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
}

async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase<Database>>>, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = config();
  const handle = await openDatabase<Database>({ dataDir: cfg.dataDir, databaseUrl: cfg.databaseUrl, pgSchema: cfg.pgSchema });
  try {
    return await fn(handle, cfg);
  } finally {
    await handle.close();
  }
}

const program = new Command();
program
  .name('switchboard')
  .description('Switchboard — communications hub for CRMs (mail, contact/calendar sync, omnichannel chat).')
  .version(VERSION);

program
  .command('start')
  .description('Run the server. ROLES=api,worker,scheduler (default all) chooses what this process does.')
  .addHelpText(
    'after',
    '\nConfiguration comes from the environment (PORT, HOST, SWITCHBOARD_DATA_DIR, DATABASE_URL, REDIS_URL, ROLES, ...); see README.md.',
  )
  .action(async () => {
    const cfg = config();
    const { startSwitchboard } = await import('./main.js');
    const sb = await startSwitchboard(cfg);
    if (sb.url) console.log(`Switchboard is running at ${sb.url.replace('127.0.0.1', 'localhost')} (storage: ${sb.platform.dialect}, jobs: ${sb.platform.jobs.kind})`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      sb.platform.logger.info({ signal }, 'stopping');
      const force = setTimeout(() => process.exit(1), 15_000);
      force.unref();
      await sb.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('migrate')
  .description('Apply pending database migrations (they also run at start).')
  .action(async () => {
    await withDb(async (h) => {
      const r = await migrateToLatest(h.db, migrations);
      const applied = (r.results ?? []).filter((x) => x.status === 'Success');
      console.log(applied.length ? `Applied ${applied.length} migration(s):\n  ${applied.map((a) => a.migrationName).join('\n  ')}` : 'Database is up to date.');
      console.log(`Storage: ${h.dialect}`);
    });
  });

const admin = program.command('admin').description('Administrator accounts.');
admin
  .command('create')
  .description('Create an administrator (a member of the Administrators role, which holds every system operation).')
  .requiredOption('--email <email>', 'sign-in email')
  .addOption(new Option('--password <password>', 'password (min 8 characters)').env('SWITCHBOARD_ADMIN_PASSWORD').makeOptionMandatory())
  .option('--name <name>', 'display name')
  .action(async (opts: { email: string; password: string; name?: string }) => {
    if (opts.password.length < 8) {
      console.error('The password must have at least 8 characters.');
      process.exit(2);
    }
    await withDb(async (h) => {
      await migrateToLatest(h.db, migrations);
      const { createIdentityService } = await import('./modules/identity/index.js');
      const identity = createIdentityService(h.db);
      try {
        const u = await identity.createAdmin(opts.email, opts.password, opts.name);
        console.log(`Created administrator ${u.email} (${u.id}).`);
      } catch (e) {
        console.error((e as Error).message);
        process.exitCode = 1;
      }
    });
  });

const secrets = program.command('secrets').description('Secrets at rest.');
secrets
  .command('rotate')
  .description(
    'Re-encrypt every stored secret under a new key. With the generated key file this makes a new key; ' +
      'with SWITCHBOARD_SECRET_KEY set it re-encrypts under that key (put the old one in SWITCHBOARD_SECRET_KEY_PREVIOUS).',
  )
  .option('--prune', 'drop old keys from the key file once everything is re-encrypted')
  .action(async (opts: { prune?: boolean }) => {
    await withDb(async (h, cfg) => {
      await migrateToLatest(h.db, migrations);
      const source = loadKeyRing(cfg.dataDir, cfg.secretKey, { SWITCHBOARD_SECRET_KEY_PREVIOUS: cfg.secretKeyPrevious });
      // Every secret must be readable before anything is rewritten, or the rotation would stop
      // half-way on the first one it cannot decrypt.
      const unknown = await createSecretStore(h.db, new SecretBox(source.ring)).unknownKeys();
      if (unknown.length > 0) {
        console.error(
          `Cannot rotate: ${unknown.map((k) => `${k.count} secret(s) under key id ${k.keyId}`).join(', ')} cannot be decrypted with the keys given. ` +
            'Put the old key in SWITCHBOARD_SECRET_KEY_PREVIOUS and run again. Nothing was changed.',
        );
        process.exitCode = 1;
        return;
      }
      let keys = source.ring.keys;
      if (source.source === 'file') {
        keys = [generateKey(), ...keys];
        writeKeyFile(source.file!, keys);
      }
      const store = createSecretStore(h.db, new SecretBox({ keys }));
      const bar = new cliProgress.SingleBar({ format: 'Re-encrypting secrets [{bar}] {value}/{total}' }, cliProgress.Presets.shades_classic);
      let started = false;
      const n = await store.rotate((done, total) => {
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(done);
      });
      if (started) bar.stop();
      if (source.source === 'file' && opts.prune) writeKeyFile(source.file!, [keys[0]]);
      console.log(`Re-encrypted ${n} secret(s).${source.source === 'file' ? ` New key written to ${source.file}.` : ''}`);
    });
  });

program
  .command('sandbox')
  .description('Start local emulators (Telegram Bot API, ...) to try Switchboard without real accounts.')
  .option('--telegram-port <port>', 'port of the Telegram emulator', '8081')
  .action(async (opts: { telegramPort: string }) => {
    const emulators = './emulators/index.js';
    const mod = (await import(emulators).catch(() => null)) as null | { startSandbox(o: { telegramPort: number }): Promise<void> };
    if (!mod) {
      console.error('No emulators are available in this build.');
      process.exit(1);
    }
    await mod.startSandbox({ telegramPort: Number(opts.telegramPort) });
  });

program.parseAsync(process.argv).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
