// Operations tools for administrators: is the worker fleet alive, and how full are the queues?
// `POST /api/system/ping` enqueues a job; whichever worker runs it answers the caller over the
// realtime socket with its instance id. In queue mode that crosses every layer of scale-out —
// api process → Redis queue → worker process → Redis pub/sub → the caller's WebSocket.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Platform } from '../../platform/index.js';
import type { App } from '../../platform/http/app.js';
import { requireOperation, requireUser } from '../../platform/http/auth.js';

const PING_JOB = 'system.ping';

export function createSystemModule(platform: Platform) {
  platform.jobs.define<{ requestId: string; userId: string; requestedAt: string }>(PING_JOB, async (data) => {
    await platform.realtime.notifyUsers([data.userId], {
      type: 'system.pong',
      data: { requestId: data.requestId, instanceId: platform.instanceId, roles: platform.config.roles, requestedAt: data.requestedAt, answeredAt: new Date().toISOString() },
    });
  });

  return {
    registerRoutes(app: App) {
      const admin = requireOperation('CanManageAdministration');
      app.post(
        '/api/system/ping',
        { preHandler: admin, schema: { tags: ['system'], response: { 202: z.object({ requestId: z.string(), answerEvent: z.literal('system.pong') }) } } },
        async (request, reply) => {
          const requestId = randomUUID();
          await platform.jobs.enqueue(PING_JOB, { requestId, userId: requireUser(request).id, requestedAt: new Date().toISOString() }, { attempts: 1 });
          return reply.status(202).send({ requestId, answerEvent: 'system.pong' as const });
        },
      );
      app.get(
        '/api/system/status',
        {
          preHandler: admin,
          schema: {
            tags: ['system'],
            response: {
              200: z.object({
                instanceId: z.string(),
                roles: z.array(z.string()),
                storage: z.string(),
                jobs: z.object({ kind: z.string(), counts: z.record(z.string(), z.number()) }),
                events: z.string(),
              }),
            },
          },
        },
        async () => ({
          instanceId: platform.instanceId,
          roles: platform.config.roles,
          storage: platform.dialect,
          jobs: { kind: platform.jobs.kind, counts: await platform.jobs.counts() },
          events: platform.events.kind,
        }),
      );
    },
  };
}
