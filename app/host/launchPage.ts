/**
 * The page that hands the browser host's token to the user's browser without showing it to anyone
 * else. A URL given to a browser opener (`xdg-open URL`) sits in that process's arguments, which
 * every local user can read (`ps`, /proc/PID/cmdline); the Origin check stops other web pages but
 * not a local program that read the token there. So the opener is given the path of this file
 * instead: it is created 0600 (O_EXCL, so nothing planted in advance is followed) in a directory
 * only this user can enter, and it forwards the browser to `http://127.0.0.1:PORT/#token=…`, where
 * the renderer takes the token out of the address bar (renderer/src/transport/hostToken.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QuiverError } from '../contract/quiverError.ts';

export class LaunchPageError extends QuiverError<'launch-page'> {
  constructor(message: string, options?: ErrorOptions) {
    super('launch-page', message, options);
  }
}

export interface LaunchPage {
  /** The file, readable by this user only. */
  path: string;
  /** `file:///…`: safe to pass to a browser opener. */
  fileUrl: string;
  /** Deletes the file; the token dies with the host, and so should the page that carries it. */
  remove(): Promise<void>;
}

/**
 * Where launch pages go: `$XDG_RUNTIME_DIR/quiver` (a per-user tmpfs, emptied at logout) when the
 * session has one, else `<dataDir>/run`.
 */
export function launchPageDir(dataDir: string, env: Record<string, string | undefined>): string {
  const runtime = env['XDG_RUNTIME_DIR'];
  return runtime !== undefined && runtime.startsWith('/') ? join(runtime, 'quiver') : join(dataDir, 'run');
}

/**
 * Writes a page that forwards to `url` (which carries the token) into `dir`, creating `dir` 0700.
 * Throws LaunchPageError when `dir` is not a directory of this user's that only they can enter,
 * because then others could read the page.
 */
export async function writeLaunchPage(dir: string, url: string): Promise<LaunchPage> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
    throw new LaunchPageError(
      `${dir} is not a directory of yours, so the page with Quiver's access token cannot be kept private there. ` +
        'Remove it or set XDG_RUNTIME_DIR to a directory of yours, then start Quiver again.',
    );
  }
  // Ours: tighten it rather than refuse (an older Quiver or a umask may have made it 0755).
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
  const path = join(dir, `open-${randomBytes(9).toString('base64url')}.html`);
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(pageFor(url), 'utf8');
  } finally {
    await file.close();
  }
  return { path, fileUrl: pathToFileURL(path).href, remove: () => rm(path, { force: true }) };
}

/** A page that forwards at once (no script needed) and links there in case the browser does not. */
export function pageFor(url: string): string {
  const href = escapeAttribute(url);
  return (
    '<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n' +
    `<meta http-equiv="refresh" content="0;url=${href}">\n<title>Quiver</title>\n` +
    `<p>Opening Quiver… If nothing happens, <a href="${href}">open Quiver</a>.</p>\n`
  );
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
