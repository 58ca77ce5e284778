// Console build: `root` is web/, output goes to dist/web, which the server serves at `/`
// (src/platform/http/console.ts). In development `vite --config web/vite.config.ts` proxies the
// API and webhooks to a server on :3000.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  plugins: [react()],
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: {
      '/api': { target: 'http://localhost:3000', ws: true },
      '/webhooks': 'http://localhost:3000',
    },
  },
});
