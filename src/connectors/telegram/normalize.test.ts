import { describe, expect, it } from 'vitest';
import { largestPhoto, normalizeUpdate } from './normalize.js';
import type { TelegramUpdate } from './types.js';

const chat = { id: -1001234567890123, type: 'private' as const, first_name: 'Ann' };
const from = { id: 9007199254740, is_bot: false, first_name: 'Ann', last_name: 'Lee', username: 'ann', language_code: 'de' };

describe('normalizeUpdate', () => {
  it('maps a text message, keeping ids beyond 32 bits exact', () => {
    const u: TelegramUpdate = { update_id: 10000, message: { message_id: 1365, date: 1441645532, chat, from, text: '/start' } };
    expect(normalizeUpdate(u)).toEqual({
      updateId: 10000,
      kind: 'message',
      chatId: -1001234567890123,
      chatType: 'private',
      from: { id: 9007199254740, firstName: 'Ann', lastName: 'Lee', username: 'ann', languageCode: 'de' },
      messageId: 1365,
      date: 1441645532,
      text: '/start',
      files: [],
    });
  });

  it('picks the largest photo size and keeps the caption', () => {
    const photo = [
      { file_id: 's', file_unique_id: 'us', width: 90, height: 67, file_size: 1200 },
      { file_id: 'l', file_unique_id: 'ul', width: 1280, height: 960, file_size: 90000 },
      { file_id: 'm', file_unique_id: 'um', width: 320, height: 240, file_size: 9000 },
    ];
    const n = normalizeUpdate({ update_id: 1, message: { message_id: 2, date: 3, chat, from, photo, caption: 'look' } });
    expect(n).toMatchObject({ kind: 'message', caption: 'look', files: [{ kind: 'photo', fileId: 'l', fileUniqueId: 'ul', size: 90000 }] });
    expect(largestPhoto([])).toBeUndefined();
  });

  it('maps documents with name, MIME type and size', () => {
    const document = { file_id: 'd', file_unique_id: 'ud', file_name: 'a.pdf', mime_type: 'application/pdf', file_size: 1234 };
    const n = normalizeUpdate({ update_id: 1, message: { message_id: 2, date: 3, chat, from, document } });
    expect(n).toMatchObject({ files: [{ kind: 'document', fileId: 'd', fileUniqueId: 'ud', fileName: 'a.pdf', mimeType: 'application/pdf', size: 1234 }] });
  });

  it('marks edits and uses the edit date', () => {
    const n = normalizeUpdate({ update_id: 5, edited_message: { message_id: 2, date: 100, edit_date: 160, chat, from, text: 'fixed' } });
    expect(n).toMatchObject({ kind: 'edited', messageId: 2, date: 160, text: 'fixed' });
  });

  it('names content it does not carry and classifies other updates', () => {
    const sticker = normalizeUpdate({ update_id: 1, message: { message_id: 2, date: 3, chat, from, sticker: { file_id: 'x' } } });
    expect(sticker).toMatchObject({ kind: 'message', files: [], unsupported: ['sticker'] });
    expect(normalizeUpdate({ update_id: 7, callback_query: { id: 'q' } })).toEqual({ updateId: 7, kind: 'other', updateType: 'callback_query' });
    // A channel post has no `from`: not a customer message.
    expect(normalizeUpdate({ update_id: 8, message: { message_id: 1, date: 1, chat: { id: -5, type: 'channel' }, text: 'x' } })).toMatchObject({ kind: 'other' });
  });
});
