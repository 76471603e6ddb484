/**
 * `electron-vite build` -> out/main/index.js (ESM, dependencies such as better-sqlite3 stay
 * external and load from node_modules / app.asar.unpacked), out/preload/preload.cjs (CommonJS:
 * sandboxed preloads cannot be ES modules, Electron security checklist #4), out/renderer/.
 * renderer/vite.config.ts builds the same renderer on its own; keep the two in step.
 */
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;
/** Where the three builds go; tests point it at a temporary directory. */
const out = process.env['QUIVER_OUT_DIR'] ?? resolve(root, 'out');

export default defineConfig({
  main: {
    build: {
      outDir: resolve(out, 'main'),
      // Every package.json dependency stays a runtime import (native better-sqlite3 cannot be bundled).
      externalizeDeps: true,
      rolldownOptions: {
        input: { index: resolve(root, 'main/index.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(out, 'preload'),
      // A sandboxed preload may only require('electron'): bundle, never externalize.
      externalizeDeps: false,
      rolldownOptions: {
        input: { preload: resolve(root, 'main/preload.cts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    base: './',
    plugins: [svelte()],
    build: {
      outDir: resolve(out, 'renderer'),
      emptyOutDir: true,
      modulePreload: { polyfill: false },
      rolldownOptions: {
        input: { index: resolve(root, 'renderer/index.html') },
      },
    },
  },
});
