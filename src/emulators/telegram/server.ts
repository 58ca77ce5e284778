// HTTP face of the emulator (node:http, no framework): the Bot API under /bot<TOKEN>/<method>,
// file downloads under /file/bot<TOKEN>/<path>, the customer page at / and a small JSON control
// API under /_emulator/ used by that page (and by anything driving the emulator from another process).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiFailure } from './store.js';
import type { TelegramEmulatorCore } from './core.js';
import { isUpload, parseParams, readBody, str, type Params } from './params.js';
import { CUSTOMER_PAGE_HTML } from './page.js';

const API_PATH = /^\/bot([^/]+)\/([^/]+)\/?$/;
const FILE_PATH = /^\/file\/bot([^/]+)\/(.+)$/;

export async function listen(core: TelegramEmulatorCore, port: number, host: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(core, req, res).catch((err) => {
      if (!res.headersSent) sendEnvelopeError(res, err instanceof ApiFailure ? err : new ApiFailure(500, 'Internal Server Error'));
      else res.destroy();
    });
  });
  // Long polls are held up to the client's timeout; do not let Node cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { server, url: `http://${shownHost}:${addr.port}` };
}

async function handle(core: TelegramEmulatorCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  const path = url.pathname;

  const api = API_PATH.exec(path);
  if (api) return handleApi(core, req, res, url, decodeURIComponent(api[1]), api[2]);

  const file = FILE_PATH.exec(path);
  if (file && (req.method === 'GET' || req.method === 'HEAD')) {
    const stored = core.downloadFile(decodeURIComponent(file[1]), decodeURIComponent(file[2]));
    res.writeHead(200, { 'content-type': stored.mimeType ?? 'application/octet-stream', 'content-length': stored.bytes.length });
    res.end(req.method === 'HEAD' ? undefined : stored.bytes);
    return;
  }

  if (path === '/' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(CUSTOMER_PAGE_HTML);
    return;
  }

  if (path.startsWith('/_emulator/')) return handleControl(core, req, res, url);

  sendEnvelopeError(res, new ApiFailure(404, 'Not Found'));
}

async function handleApi(
  core: TelegramEmulatorCore,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  token: string,
  method: string,
): Promise<void> {
  // Auth first, like Telegram: a bad token is 401 whatever the method or body.
  let bot;
  try {
    bot = core.bot(token);
  } catch (err) {
    await drain(req);
    core.recordCall(token, method, (err as ApiFailure).code);
    return sendEnvelopeError(res, err as ApiFailure);
  }
  try {
    const params = await parseParams(req, url, await readBody(req));
    let result: unknown;
    if (method.toLowerCase() === 'getupdates') {
      // getUpdates may be held; it needs to learn when the client hangs up.
      result = await holdableGetUpdates(core, bot, params, res);
    } else {
      result = await core.callOnBot(bot, method, params);
    }
    core.recordCall(token, method, 200);
    sendJson(res, 200, { ok: true, result });
  } catch (err) {
    if (err instanceof ApiFailure) {
      core.recordCall(token, method, err.code);
      return sendEnvelopeError(res, err);
    }
    throw err;
  }
}

async function holdableGetUpdates(
  core: TelegramEmulatorCore,
  bot: ReturnType<TelegramEmulatorCore['bot']>,
  params: Params,
  res: ServerResponse,
): Promise<unknown> {
  core.checkRate(bot, 'getupdates', params);
  return core.getUpdates(bot, params, (cancel) => {
    res.on('close', () => {
      if (!res.writableEnded) cancel();
    });
  });
}

async function drain(req: IncomingMessage): Promise<void> {
  try {
    await readBody(req);
  } catch {
    // ignore oversized bodies on a request we reject anyway
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendEnvelopeError(res: ServerResponse, err: ApiFailure): void {
  const body: Record<string, unknown> = { ok: false, error_code: err.code, description: err.description };
  const headers: Record<string, string> = {};
  if (err.parameters) {
    body.parameters = err.parameters;
    if (err.parameters.retry_after !== undefined) headers['retry-after'] = String(err.parameters.retry_after);
  }
  sendJson(res, err.code, body, headers);
}

// ---- control API (customer page, sandbox) ------------------------------------------------------

async function handleControl(core: TelegramEmulatorCore, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const parts = url.pathname.split('/').filter(Boolean).slice(1); // drop "_emulator"
  const method = req.method ?? 'GET';

  if (parts[0] === 'bots' && parts.length === 1) {
    if (method === 'GET') {
      const bots = core.listBots().map((b) => ({
        id: b.id,
        username: b.username,
        firstName: b.firstName,
        token: b.token,
        webhook: core.webhookInfoOf(b),
        chats: [...b.chats.values()].map((c) => ({ id: c.chat.id, firstName: c.chat.first_name, username: c.chat.username })),
      }));
      return sendJson(res, 200, bots);
    }
    if (method === 'POST') {
      const p = await parseParams(req, url, await readBody(req));
      const username = str(p, 'username');
      if (!username) return sendJson(res, 400, { error: 'username is required' });
      return sendJson(res, 201, core.createBot({ username, firstName: str(p, 'firstName') }));
    }
  }

  const bot = parts[0] === 'bots' && parts[1] ? core.botById(Number(parts[1])) : undefined;
  if (parts[0] === 'bots' && !bot) return sendJson(res, 404, { error: 'no such bot' });

  if (bot && parts[2] === 'messages' && parts.length === 3 && method === 'POST') {
    const p = await parseParams(req, url, await readBody(req));
    const fromId = Number(str(p, 'fromId') ?? (p.from as { id?: number } | undefined)?.id);
    const firstName = str(p, 'firstName') ?? (p.from as { first_name?: string } | undefined)?.first_name;
    if (!Number.isInteger(fromId) || fromId <= 0 || !firstName) return sendJson(res, 400, { error: 'fromId and firstName are required' });
    const from = {
      id: fromId,
      first_name: firstName,
      last_name: str(p, 'lastName') || undefined,
      username: str(p, 'username') || undefined,
    };
    const text = str(p, 'text') ?? '';
    const file = p.file;
    try {
      if (isUpload(file) && file.bytes.length > 0) {
        const caption = text || undefined;
        const update = file.mimeType.startsWith('image/') && str(p, 'asDocument') !== 'true'
          ? core.customerMessage(bot.token, { from, photo: { bytes: file.bytes, caption } })
          : core.customerMessage(bot.token, {
              from,
              document: { bytes: file.bytes, fileName: file.fileName, mimeType: file.mimeType, caption },
            });
        return sendJson(res, 201, update);
      }
      if (!text) return sendJson(res, 400, { error: 'text or file is required' });
      return sendJson(res, 201, core.customerMessage(bot.token, { from, text }));
    } catch (err) {
      return sendJson(res, 400, { error: (err as Error).message });
    }
  }

  if (bot && parts[2] === 'sent' && parts.length === 3 && method === 'GET') {
    const chatId = url.searchParams.get('chatId');
    return sendJson(res, 200, core.sentMessages(bot.token, chatId ? Number(chatId) : undefined));
  }

  if (bot && parts[2] === 'chats' && parts[4] === 'transcript' && method === 'GET') {
    const chat = bot.chats.get(Number(parts[3]));
    return sendJson(res, 200, chat ? chat.transcript : []);
  }

  if (parts[0] === 'files' && parts[1] && method === 'GET') {
    const f = core.files.get(decodeURIComponent(parts[1]));
    if (!f) return sendJson(res, 404, { error: 'no such file' });
    const name = (f.fileName ?? f.filePath.split('/').pop() ?? 'file').replace(/[^\w.\- ]/g, '_');
    res.writeHead(200, {
      'content-type': f.mimeType ?? (f.kind === 'photo' ? 'image/jpeg' : 'application/octet-stream'),
      'content-disposition': `inline; filename="${name}"`,
      'content-length': f.bytes.length,
    });
    res.end(f.bytes);
    return;
  }

  sendJson(res, 404, { error: 'not found' });
}
