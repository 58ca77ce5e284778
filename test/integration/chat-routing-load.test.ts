// Routing properties under load (H2, H3, H4): 50 operators with random statuses and limits, 2,000
// chats arriving concurrently, random accept / ignore (accept timeout fires) / complete / status
// changes — on SQLite and PostgreSQL (two worker processes: chat-routing-multiprocess.test.ts).
// A monitor checks "in progress + offered ≤ SimultaneousChats" throughout; the end state and the
// accept/complete history are checked afterwards.
import { describe, expect, it } from 'vitest';
import { createTestDb, dialects } from '../helpers/db.js';
import { createFixture, simRoutingService, simulate } from './chat-routing-sim.js';
import { checkEndState, monitor } from './chat-routing-checks.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('chat routing under load on %s', (dialect) => {
  it('simulation: 50 operators, 2,000 concurrent chats, random accept/ignore/complete — invariants hold', { timeout: 240_000 }, async () => {
    const fresh = await createTestDb(dialect);
    try {
      const db = fresh.db;
      const fx = await createFixture(db, 42);
      const errs: string[] = [];
      const service = simRoutingService(db, fresh.dialect, fx, (e, what) => errs.push(`${what}: ${String(e)}`));
      const mon = monitor(db, fx);
      const res = await simulate(db, service, fx, { chats: 2000, seed: 99 });
      const m = await mon.stop();
      expect(errs).toEqual([]);
      expect(m.seen).toEqual([]);
      expect(m.polls).toBeGreaterThan(5);
      const { chats } = await checkEndState(db, fx, [res], 2000);
      expect(chats.filter((c) => c.state === 'completed').length).toBeGreaterThan(100);
    } finally {
      await fresh.destroy();
    }
  });
});
