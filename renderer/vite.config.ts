/**
 * Builds the renderer alone (`vite build --config renderer/vite.config.ts`) into out/renderer.
 * The electron-vite config reuses the same plugin setup; keep this minimal.
 */
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    // The polyfill would be injected as code we do not need: Chromium supports modulepreload.
    modulePreload: { polyfill: false },
  },
});
