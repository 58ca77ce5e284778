// Telegram connector: speaks the Bot API and classifies its failures; never decides.
//
//   const client = createTelegramClient({ apiRoot, token, fetchImpl?, timeoutMs? });
//   client.getMe() / setWebhook({ url, secretToken, dropPendingUpdates?, allowedUpdates?, maxConnections? })
//   client.deleteWebhook({ dropPendingUpdates? }) / getWebhookInfo()
//   client.getUpdates({ offset, timeout, limit, allowedUpdates?, signal })
//   client.sendMessage(chatId, text) / sendPhoto(chatId, { bytes, fileName, mimeType?, caption? })
//   client.sendDocument(chatId, { bytes, fileName, mimeType, caption? })
//   client.getFile(fileId) → { file_path } ; client.downloadFile(filePath) → Buffer
//   errors: TelegramError { kind: 'auth'|'rate-limited'|'conflict'|'not-found'|'forbidden'|'bad-request'|'transient',
//           status, description (token redacted), retryAfter?, method?, conflictKind? }
//   describeTelegramError(err) → plain words for diagnostics
//   verifyWebhookSecret(header, expected) constant-time; newWebhookSecret()
//   normalizeUpdate(update) → { updateId, kind: 'message'|'edited', chatId, from, messageId, date, text?, caption?, files[] }
//                              | { updateId, kind: 'other', updateType }
//   createPoller({ client, onUpdates, signal, logger, initialOffset?, onError? }) → { done, offset() }
//   diagnoseWebhook(getWebhookInfo result, expectedUrl) → { state, pendingUpdates, lastError?, needsReregistration, explanation }
export { createTelegramClient, type TelegramClient, type TelegramClientOptions, type UploadInput } from './client.js';
export {
  TelegramError,
  describeTelegramError,
  isTelegramError,
  kindForStatus,
  redactToken,
  type TelegramErrorKind,
} from './errors.js';
export { verifyWebhookSecret, newWebhookSecret, SECRET_HEADER } from './webhook-secret.js';
export {
  normalizeUpdate,
  largestPhoto,
  type NormalizedUpdate,
  type NormalizedMessageUpdate,
  type NormalizedOtherUpdate,
  type NormalizedFile,
} from './normalize.js';
export {
  createPoller,
  confirmOffset,
  abortableSleep,
  type Poller,
  type PollerOptions,
  type PollerResult,
  type PollerStopReason,
  type PollerLogger,
} from './poller.js';
export { diagnoseWebhook, type WebhookDiagnosis, type WebhookState } from './diagnostics.js';
export type * from './types.js';
