// Routing properties from two worker processes on one PostgreSQL schema (H2, H3, H4): each process
// runs half of the 2,000-chat simulation (chat-routing-sim.ts) at the same time; the invariants are
// checked by a monitor during the run, at every routing decision inside its transaction
// (chat-routing-decisions.ts: least-busy optimal, arrival order kept), and on the final state and
// history afterwards.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDb } from '../helpers/db.js';
import { hasPostgres } from '../helpers/services.js';
import { createFixture, type SimResult } from './chat-routing-sim.js';
import { checkEndState, monitor } from './chat-routing-checks.js';

const PG = await hasPostgres();

describe.runIf(PG)('chat routing on PostgreSQL from two worker processes', () => {
  it('two processes route, accept, ignore and complete 2,000 chats on one schema without breaking the limits', { timeout: 240_000 }, async () => {
    const fresh = await createTestDb('postgres');
    try {
      const db = fresh.db;
      const fx = await createFixture(db, 5);
      const fixtureFile = join(fresh.dataDir, 'fixture.json');
      writeFileSync(fixtureFile, JSON.stringify(fx));
      const mon = monitor(db, fx);
      const worker = join(import.meta.dirname, 'chat-routing-worker.ts');
      const run = (seed: number) =>
        new Promise<SimResult>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', worker], {
            env: { ...process.env, ...fresh.env, SIM_FIXTURE: fixtureFile, SIM_SEED: String(seed), SIM_CHATS: '1000' },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (err += d));
          child.on('exit', (code) => {
            if (code !== 0) return reject(new Error(`worker exited ${code}: ${err}`));
            try {
              resolve(JSON.parse(out.trim().split('\n').pop()!) as SimResult);
            } catch (e) {
              reject(new Error(`bad worker output: ${out} ${err}`));
            }
          });
        });
      const results = await Promise.all([run(1001), run(2002)]);
      const m = await mon.stop();
      expect(m.seen).toEqual([]);
      await checkEndState(db, fx, results, 2000);
      // Both processes checked their decisions at the moment they made them (violations fail checkEndState).
      for (const r of results) expect(r.decisions.leastBusyOffers).toBeGreaterThan(20);
    } finally {
      await fresh.destroy();
    }
  });
});
