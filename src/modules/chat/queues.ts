// Chat queues (H1): name, routing rule, completion timeout, operators as users and/or roles.
// A queue exists on its own; channels point at a queue, several channels may share one.
import type { DB } from '../../schema.js';
import { isUniqueViolation, newId, nowIso } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { ChatQueuesTable, RoutingRule } from './tables.js';

export interface QueueView {
  id: string;
  name: string;
  routingRule: RoutingRule;
  completionTimeoutMinutes: number | null;
  userIds: string[];
  roleIds: string[];
  createdAt: string;
  updatedAt: string;
}

export interface QueueInput {
  name: string;
  routingRule: RoutingRule;
  completionTimeoutMinutes?: number | null;
  userIds?: string[];
  roleIds?: string[];
}

export function createQueueService(deps: { db: DB; onMembershipChanged?(queueId: string): void }) {
  const { db } = deps;

  async function view(q: ChatQueuesTable): Promise<QueueView> {
    const users = await db.selectFrom('chat_queue_users').select('user_id').where('queue_id', '=', q.id).orderBy('user_id').execute();
    const roles = await db.selectFrom('chat_queue_roles').select('role_id').where('queue_id', '=', q.id).orderBy('role_id').execute();
    return {
      id: q.id,
      name: q.name,
      routingRule: q.routing_rule,
      completionTimeoutMinutes: q.completion_timeout_minutes,
      userIds: users.map((u) => u.user_id),
      roleIds: roles.map((r) => r.role_id),
      createdAt: q.created_at,
      updatedAt: q.updated_at,
    };
  }

  async function checkRefs(userIds: string[], roleIds: string[]) {
    const problems: { field: string; message: string }[] = [];
    if (userIds.length) {
      const found = new Set((await db.selectFrom('users').select('id').where('id', 'in', userIds).execute()).map((r) => r.id));
      const missing = userIds.filter((u) => !found.has(u));
      if (missing.length) problems.push({ field: 'userIds', message: `Unknown user id(s): ${missing.join(', ')}` });
    }
    if (roleIds.length) {
      const found = new Set((await db.selectFrom('roles').select('id').where('id', 'in', roleIds).execute()).map((r) => r.id));
      const missing = roleIds.filter((r) => !found.has(r));
      if (missing.length) problems.push({ field: 'roleIds', message: `Unknown role id(s): ${missing.join(', ')}` });
    }
    if (problems.length) throw errors.validation(problems);
  }

  async function get(id: string): Promise<QueueView> {
    const q = await db.selectFrom('chat_queues').selectAll().where('id', '=', id).executeTakeFirst();
    if (!q) throw errors.notFound('Chat queue', id);
    return view(q);
  }

  const nameTaken = (name: string) => errors.conflict(`A chat queue named "${name}" already exists.`, { field: 'name' });

  return {
    get,

    async list(opts: { limit: number; after?: { k: string; id: string } | null }): Promise<QueueView[]> {
      let q = db.selectFrom('chat_queues').selectAll().orderBy('name').orderBy('id').limit(opts.limit + 1);
      if (opts.after) {
        const a = opts.after;
        q = q.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(a.k, a.id)));
      }
      return Promise.all((await q.execute()).map(view));
    },

    async create(input: QueueInput): Promise<QueueView> {
      const userIds = [...new Set(input.userIds ?? [])];
      const roleIds = [...new Set(input.roleIds ?? [])];
      await checkRefs(userIds, roleIds);
      const id = newId();
      const now = nowIso();
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('chat_queues')
            .values({ id, name: input.name, routing_rule: input.routingRule, completion_timeout_minutes: input.completionTimeoutMinutes ?? null, created_at: now, updated_at: now })
            .execute();
          if (userIds.length) await trx.insertInto('chat_queue_users').values(userIds.map((user_id) => ({ queue_id: id, user_id }))).execute();
          if (roleIds.length) await trx.insertInto('chat_queue_roles').values(roleIds.map((role_id) => ({ queue_id: id, role_id }))).execute();
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(input.name);
        throw err;
      }
      return get(id);
    },

    async update(id: string, patch: Partial<QueueInput>): Promise<QueueView> {
      await get(id);
      const userIds = patch.userIds ? [...new Set(patch.userIds)] : undefined;
      const roleIds = patch.roleIds ? [...new Set(patch.roleIds)] : undefined;
      await checkRefs(userIds ?? [], roleIds ?? []);
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('chat_queues')
            .set({
              ...(patch.name !== undefined ? { name: patch.name } : {}),
              ...(patch.routingRule !== undefined ? { routing_rule: patch.routingRule } : {}),
              ...(patch.completionTimeoutMinutes !== undefined ? { completion_timeout_minutes: patch.completionTimeoutMinutes } : {}),
              updated_at: nowIso(),
            })
            .where('id', '=', id)
            .execute();
          if (userIds) {
            await trx.deleteFrom('chat_queue_users').where('queue_id', '=', id).execute();
            if (userIds.length) await trx.insertInto('chat_queue_users').values(userIds.map((user_id) => ({ queue_id: id, user_id }))).execute();
          }
          if (roleIds) {
            await trx.deleteFrom('chat_queue_roles').where('queue_id', '=', id).execute();
            if (roleIds.length) await trx.insertInto('chat_queue_roles').values(roleIds.map((role_id) => ({ queue_id: id, role_id }))).execute();
          }
        });
      } catch (err) {
        if (isUniqueViolation(err) && patch.name) throw nameTaken(patch.name);
        throw err;
      }
      // New operators (or a new rule) may take waiting chats now.
      deps.onMembershipChanged?.(id);
      return get(id);
    },

    async remove(id: string): Promise<void> {
      await get(id);
      const channel = await db.selectFrom('chat_channels').select('name').where('queue_id', '=', id).executeTakeFirst();
      if (channel) throw errors.conflict(`The queue is used by the channel "${channel.name}"; move the channel to another queue first.`);
      const chat = await db.selectFrom('chats').select('id').where('queue_id', '=', id).executeTakeFirst();
      if (chat) throw errors.conflict('The queue has chats; it cannot be deleted.');
      await db.deleteFrom('chat_queues').where('id', '=', id).execute();
    },
  };
}

export type QueueService = ReturnType<typeof createQueueService>;
