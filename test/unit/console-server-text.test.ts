// Server text in the console's language (W1: English and Russian): known codes are said in the
// console's words, anything unknown falls back to what the server wrote.
import { describe, expect, it } from 'vitest';
import { translate, type T } from '../../web/src/i18n/translate.js';
import { apiErrorText, notificationText, settingDescription, settingName, stepFailedHint, timelineTitle } from '../../web/src/i18n/serverText.js';
import { channelLabel, earlierChats, statusReasonKey } from '../../web/src/pages/panel/chatText.js';
import type { Chat } from '../../web/src/pages/panel/chatTypes.js';

const en: T = (k, v) => translate('en', k, v);
const ru: T = (k, v) => translate('ru', k, v);
const err = (code: string, message: string, details: Record<string, unknown> = {}, status = 400) => ({ status, code, message, details });

describe('API errors', () => {
  it('says known codes in the user language, with the values from details', () => {
    expect(apiErrorText(ru, err('CHANNEL_HAS_CHATS', 'Channel "Bot" has 3 chats.', {}, 409))).toMatch(/^В этом канале уже есть чаты/);
    expect(apiErrorText(en, err('FORBIDDEN', 'x', { operation: 'CanManageChats' }, 403))).toBe('This needs the system operation CanManageChats.');
    expect(apiErrorText(ru, err('FORBIDDEN', 'x', { operation: 'CanManageChats' }, 403))).toContain('CanManageChats');
    expect(apiErrorText(ru, err('RATE_LIMITED', 'Telegram asked to slow down', { retryAfter: 7 }, 429))).toContain('7');
    expect(apiErrorText(ru, err('NETWORK', 'offline', {}, 0))).toMatch(/^Сервер недоступен/);
    expect(apiErrorText(ru, err('HTTP_502', 'The server answered 502.', {}, 502))).toContain('502');
  });

  it('names the failing step of a mailbox verification', () => {
    expect(apiErrorText(en, err('MAILBOX_VERIFICATION_FAILED', 'Login refused', { failedStep: 'login' }, 422))).toBe('The mail server check failed at: Sign in. Nothing was saved.');
    expect(apiErrorText(ru, err('MAILBOX_VERIFICATION_FAILED', 'Login refused', { failedStep: 'tcp' }, 422))).toContain('Соединение (TCP)');
    expect(stepFailedHint(ru, 'login')).toMatch(/пароль приложения/);
    expect(stepFailedHint(ru, 'some-new-step')).toBeNull();
  });

  it('lists the invalid fields after the translated lead', () => {
    expect(apiErrorText(ru, err('VALIDATION_FAILED', 'Some fields are invalid.', { fields: [{ field: 'body.imap.port', message: 'Too big' }] }))).toBe('Некоторые поля заполнены неверно. (imap.port: Too big)');
  });

  it('keeps the server message for codes it does not know', () => {
    expect(apiErrorText(ru, err('CONFLICT', 'You already connected ann@acme.test.', {}, 409))).toBe('You already connected ann@acme.test.');
    expect(apiErrorText(ru, err('SOMETHING_NEW', 'A new failure.'))).toBe('A new failure.');
  });
});

describe('notifications', () => {
  const connected = {
    kind: 'mailbox.connected',
    title: 'Mailbox ann@acme.test is connected',
    body: 'Mail from the last month is loading now; …',
    links: [
      { rel: 'mail', label: 'Open mail', href: '/panel/email?mailboxId=1' },
      { rel: 'mailbox-settings', label: 'Mailbox settings', href: '/profile/mailboxes/1' },
    ],
  };

  it('renders a known kind from its values, links by their rel', () => {
    const n = notificationText(ru, connected);
    expect(n.title).toBe('Ящик ann@acme.test подключён');
    expect(n.body).toMatch(/^Сейчас загружается почта/);
    expect(n.links).toEqual([
      { label: 'Открыть почту', href: '/panel/email?mailboxId=1' },
      { label: 'Настройки ящика', href: '/profile/mailboxes/1' },
    ]);
    expect(notificationText(en, connected).title).toBe('Mailbox ann@acme.test is connected');
  });

  it('falls back to the server text when a value is missing or the kind is unknown', () => {
    const reauth = notificationText(ru, { kind: 'mailbox.needs-reauth', title: 'Mailbox ann@acme.test needs your password again', body: 'The mail server refused the stored password (AUTH failed).' });
    expect(reauth.title).toBe('Для ящика ann@acme.test снова нужен пароль');
    // The reason is only inside the server's sentence: keep the sentence rather than lose it.
    expect(reauth.body).toBe('The mail server refused the stored password (AUTH failed).');
    expect(notificationText(ru, { kind: 'mailbox.needs-reauth', title: 'x', body: 'y', vars: { email: 'a@b.c', reason: 'AUTH failed' } }).body).toContain('(AUTH failed)');
    expect(notificationText(ru, { kind: 'brand.new', title: 'Something new', body: 'Body', links: [{ rel: 'other', label: 'Go', href: '/x' }] })).toEqual({ title: 'Something new', body: 'Body', links: [{ label: 'Go', href: '/x' }] });
    expect(notificationText(ru, { kind: 'x', title: 'T', link: '/y' }).links).toEqual([{ label: 'Открыть', href: '/y' }]);
  });

  it('titles a failed send pushed over the socket (kind and message only)', () => {
    expect(notificationText(ru, { kind: 'mail.send-failed', message: '550 mailbox unavailable' })).toMatchObject({ title: 'Не удалось отправить письмо', body: '550 mailbox unavailable' });
  });
});

describe('timeline', () => {
  const e = (source: string, kind: string, title: string, data: Record<string, unknown> = {}) => ({ source, kind, title, data });

  it('CRM events from kind and data', () => {
    expect(timelineTitle(ru, e('crm', 'created', 'Created'))).toBe('Создано');
    expect(timelineTitle(ru, e('crm', 'updated', 'Changed jobTitle, notes', { changes: [{ field: 'jobTitle' }, { field: 'notes' }, { field: 'legacyThing' }] }))).toBe('Изменено: должность, заметки, legacyThing');
    expect(timelineTitle(ru, e('crm', 'status-changed', 'x', { from: 'planned', to: 'done' }))).toBe('Статус изменён: Запланирована → Выполнена');
    expect(timelineTitle(en, e('crm', 'tag-added', 'x', { name: 'VIP' }))).toBe('Tag “VIP” added');
    expect(timelineTitle(ru, e('crm', 'merged', 'Merged with X'))).toBe('Merged with X');
  });

  it('chats keep their channel; the English text is what the server says', () => {
    const chat = e('chat', 'chat', 'Chat in Telegram (Acme Support) — completed', { chatId: 'c1', state: 'completed' });
    expect(timelineTitle(en, chat)).toBe('Chat in Telegram (Acme Support) — completed');
    expect(timelineTitle(ru, chat)).toBe('Чат в Telegram (Acme Support) — завершён');
    expect(timelineTitle(ru, e('chat', 'chat', 'Chat', { state: 'in-progress', channelName: 'Shop', channelKind: 'telegram' }))).toBe('Чат в Telegram (Shop) — в работе');
    expect(timelineTitle(ru, e('chat', 'chat', 'Unparsable', { state: 'queued' }))).toBe('Unparsable');
  });

  it('mail entries are their subject', () => {
    expect(timelineTitle(ru, e('mail', 'email.received', 'Quarterly order'))).toBe('Quarterly order');
    expect(timelineTitle(ru, e('mail', 'email.sent', '(no subject)'))).toBe(translate('ru', 'mail.noSubject'));
  });
});

describe('system settings and operator status', () => {
  it('names settings by code, falling back to the server for new ones', () => {
    expect(settingName(ru, { code: 'SimultaneousChats', name: 'Simultaneous chats per operator' })).toBe('Одновременных чатов на оператора');
    expect(settingName(en, { code: 'SimultaneousChats', name: 'Simultaneous chats per operator' })).toBe('Simultaneous chats per operator');
    expect(settingName(ru, { code: 'BrandNewSetting', name: 'Brand new' })).toBe('Brand new');
    expect(settingDescription(ru, { code: 'BrandNewSetting', description: 'What it does' })).toBe('What it does');
  });

  it('explains only an inactive status the operator did not choose', () => {
    expect(statusReasonKey('accept-timeout')).toBe('chat.reason.acceptTimeout');
    expect(statusReasonKey('operator')).toBeNull();
    expect(statusReasonKey('something-else')).toBeNull();
    expect(statusReasonKey(null)).toBeNull();
  });
});

describe('earlier chats of a contact (H10)', () => {
  it('are the contact\'s chats except the current one, newest first', () => {
    const chat = (id: string, createdAt: string) => ({ id, createdAt }) as Chat;
    const items = [chat('old', '2026-01-01T10:00:00Z'), chat('now', '2026-03-01T10:00:00Z'), chat('mid', '2026-02-01T10:00:00Z')];
    expect(earlierChats(items, 'now').map((c) => c.id)).toEqual(['mid', 'old']);
    expect(earlierChats([chat('now', '2026-03-01T10:00:00Z')], 'now')).toEqual([]);
  });

  it('name the channel as the timeline does', () => {
    expect(channelLabel({ channelName: '@acme_bot', channelKind: 'telegram' })).toBe('Telegram (@acme_bot)');
    expect(channelLabel({ channelName: '@acme_bot' })).toBe('@acme_bot');
    expect(channelLabel({ channelKind: 'telegram' })).toBe('Telegram');
  });
});
