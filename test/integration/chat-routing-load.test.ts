// Routing properties under load (H2, H3, H4): 50 operators with random statuses and limits, 2,000
// chats arriving concurrently, random accept / ignore (accept timeout fires) / complete / status
// changes — on SQLite and PostgreSQL (two worker processes: chat-routing-multiprocess.test.ts).
// A monitor checks "in progress + offered ≤ SimultaneousChats" throughout; every routing decision
// is checked inside its transaction (least-busy optimal, to-all complete, arrival order kept:
// chat-routing-decisions.ts); the end state and the accept/complete history are checked afterwards.
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
      // Every decision was checked at its moment (violations would be in res.violations, checked above).
      expect(res.decisions.leastBusyOffers).toBeGreaterThan(50);
      expect(res.decisions.offer).toBeGreaterThan(res.decisions.leastBusyOffers);
      expect(res.decisions.wait).toBeGreaterThan(0);
      expect(chats.filter((c) => c.state === 'completed').length).toBeGreaterThan(100);
    } finally {
      await fresh.destroy();
    }
  });
});
