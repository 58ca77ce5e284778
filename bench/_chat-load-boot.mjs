// Worker-thread entry for bench/_chat-load.ts: worker threads do not inherit tsx's loader on Node 20.
import { register } from 'tsx/esm/api';

register();
await import('./_chat-load.ts');
