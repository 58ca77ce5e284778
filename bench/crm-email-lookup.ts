// The hot CRM path during mail sync: resolving message participants to contacts by address.
// Seeds N contacts with two addresses each, then measures findContactsByEmails for single
// addresses and for batches (a sync batch of messages × participants), plus the access-filtered
// `GET /api/contacts?email=` query for a non-administrator.
// Run: npx tsx bench/crm-email-lookup.ts [contacts]   (the PostgreSQL leg runs when the test server answers)
import { createIdentityService } from '../src/modules/identity/index.js';
import { createCrmService } from '../src/modules/crm/index.js';
import { newId, nowIso } from '../src/platform/db/index.js';
import { createTestDb } from '../test/helpers/db.js';
import { hasPostgres } from '../test/helpers/services.js';

const CONTACTS = Number(process.argv[2] ?? 20_000);
const ROUNDS = 2000;

async function run(dialect: 'sqlite' | 'postgres') {
  const t = await createTestDb(dialect);
  try {
    const identity = createIdentityService(t.db);
    const crm = createCrmService({ db: t.db, dialect, identity });
    const owner = await identity.createUser({ email: 'owner@bench.test', name: 'Owner' });
    const now = nowIso();
    const t0 = performance.now();
    for (let i = 0; i < CONTACTS; i += 500) {
      const contacts = [];
      const emails = [];
      for (let j = i; j < Math.min(i + 500, CONTACTS); j++) {
        const id = newId();
        contacts.push({ id, name: `Person ${j}`, name_lower: `person ${j}`, account_id: null, job_title: null, type: 'customer', notes: null, owner_id: owner.id, created_by: owner.id, created_at: now, updated_at: now });
        for (const [k, addr] of [`person${j}@example.com`, `p${j}@home.example`].entries()) {
          emails.push({ id: newId(), contact_id: id, email: addr, email_lower: addr, label: null, is_primary: k === 0 ? 1 : 0, position: k });
        }
      }
      await t.db.insertInto('crm_contacts').values(contacts).execute();
      await t.db.insertInto('contact_emails').values(emails).execute();
    }
    const seeded = performance.now() - t0;

    const rnd = () => Math.floor(Math.random() * CONTACTS);
    let t1 = performance.now();
    for (let i = 0; i < ROUNDS; i++) await crm.findContactsByEmails([`PERSON${rnd()}@example.com`]);
    const single = (ROUNDS / (performance.now() - t1)) * 1000;

    const batch = 200;
    t1 = performance.now();
    const batchRounds = 200;
    for (let i = 0; i < batchRounds; i++) {
      const list = Array.from({ length: batch }, (_, k) => (k % 4 === 0 ? `stranger${k}@elsewhere.test` : `person${rnd()}@example.com`));
      await crm.findContactsByEmails(list);
    }
    const batchMs = (performance.now() - t1) / batchRounds;

    const user = await crm.accessUser(owner.id);
    t1 = performance.now();
    for (let i = 0; i < 500; i++) await crm.listContacts(user, { email: `p${rnd()}@home.example`, limit: 50 });
    const listed = (500 / (performance.now() - t1)) * 1000;

    console.log(
      `${dialect.padEnd(9)} ${CONTACTS} contacts (${CONTACTS * 2} addresses) seeded in ${Math.round(seeded)} ms | ` +
        `single lookup ${Math.round(single)}/s | batch of ${batch} ${batchMs.toFixed(1)} ms (${Math.round((batch / batchMs) * 1000)} addresses/s) | ` +
        `list ?email= as owner ${Math.round(listed)}/s | rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
    );
  } finally {
    await t.destroy();
  }
}

await run('sqlite');
if (await hasPostgres()) await run('postgres');
