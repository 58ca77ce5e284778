// The console shows a feature once the server's OpenAPI document lists its routes (chat actions,
// H7, are not there yet), so it never calls routes that answer 404.
import { describe, expect, it } from 'vitest';
import { hasRoute } from '../../web/src/api/routes.js';

const doc = { paths: { '/api/chats/{id}': { get: {} }, '/api/chats/{chatId}/actions/{action}': { post: {} }, '/api/chat-queues': { get: {}, post: {} } } };

describe('hasRoute', () => {
  it('matches method and path, whatever the parameters are called', () => {
    expect(hasRoute(doc, 'POST', '/api/chats/{id}/actions/{actionId}')).toBe(true);
    expect(hasRoute(doc, 'GET', '/api/chats/{id}')).toBe(true);
    expect(hasRoute(doc, 'post', '/api/chat-queues')).toBe(true);
  });

  it('is false for a missing route, another method, or no document yet', () => {
    expect(hasRoute(doc, 'GET', '/api/chat-actions')).toBe(false);
    expect(hasRoute(doc, 'DELETE', '/api/chat-queues')).toBe(false);
    expect(hasRoute(doc, 'GET', '/api/chats')).toBe(false);
    expect(hasRoute(undefined, 'GET', '/api/chats/{id}')).toBe(false);
  });
});
