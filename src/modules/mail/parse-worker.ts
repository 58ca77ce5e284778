// Worker thread body: parses raw messages off the main thread (see parse-pool.ts).
import { parentPort } from 'node:worker_threads';
import { parseMessage } from './parse.js';

parentPort?.on('message', async (msg: { id: number; raw: Uint8Array }) => {
  const parsed = await parseMessage(msg.raw);
  const transfer = parsed.attachments.map((a) => a.content.buffer as ArrayBuffer).filter((b, i, all) => all.indexOf(b) === i);
  parentPort!.postMessage({ id: msg.id, parsed }, transfer);
});
