// One connector per channel kind. Facebook Messenger joins by adding its kind to ChannelKind
// (tables.ts) — this object then fails to compile until its connector is added here.
import type { ChannelKind } from '../tables.js';
import { createTelegramChatConnector } from './telegram.js';
import type { ChatConnector } from './types.js';

export type { ChatConnector } from './types.js';

export function createChatConnectors(roots: { telegram: string }, fetchImpl?: typeof fetch) {
  const telegram = createTelegramChatConnector({ apiRoot: roots.telegram, fetchImpl });
  const registry = { telegram } satisfies Record<ChannelKind, ChatConnector>;
  return { registry, telegram };
}

export type ChatConnectors = ReturnType<typeof createChatConnectors>;
