/**
 * Electron main-process entry (built to out/main/index.js). Everything testable lives in
 * lifecycle.ts; this file only binds the real Electron, the real core and the built file paths.
 */
import { join } from 'node:path';
import * as electron from 'electron';
import { createCore } from '../app/core.ts';
import { runMain } from './lifecycle.ts';
import { formatLogLine } from '../app/logLine.ts';

/** The one sink of the main process: each record one line, control characters escaped (`app/logLine.ts`). */
const log = (message: string, detail?: unknown) => console.error(formatLogLine(`quiver: ${message}`, detail));
const here = import.meta.dirname;
const devServerUrl = !electron.app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;

runMain(electron, {
  createCore,
  preloadPath: join(here, '../preload/preload.cjs'),
  rendererDir: join(here, '../renderer'),
  devServerUrl,
  log,
}).catch((error: unknown) => {
  log('could not start', error);
  const message = error instanceof Error ? error.message : String(error);
  electron.dialog.showErrorBox('Quiver could not start', `${message}\n\nThe terminal output has details.`);
  electron.app.exit(1);
});
