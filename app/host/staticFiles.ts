/**
 * Maps a request path to a file inside the built renderer (out/renderer), for the browser host and
 * for Electron's `app://` protocol alike, so path-traversal checks live in one place.
 */
import { realpath } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type for a file name; unknown extensions are served as opaque bytes. */
export function contentTypeFor(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The absolute file for a URL path (already without query or fragment), or null when the path is
 * malformed or leaves `rootDir` (`..`, encoded separators, NUL, or a symlink pointing outside).
 * `/` maps to `index.html`. Does not check that the file exists beyond resolving symlinks: a
 * missing file yields null too.
 */
export async function resolveStaticPath(rootDir: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch (error) {
    if (error instanceof URIError) return null;
    throw error;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  // Any `..` segment is refused outright rather than normalised away: no legitimate asset needs one.
  if (decoded.split('/').some((segment) => segment === '..')) return null;
  const relative = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const root = await realpathOrNull(resolve(rootDir));
  if (root === null) return null;
  const candidate = resolve(root, `.${relative}`);
  if (!candidate.startsWith(root + sep)) return null;
  const real = await realpathOrNull(candidate);
  if (real === null || !real.startsWith(root + sep)) return null;
  return real;
}

async function realpathOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EACCES') return null;
    throw error;
  }
}
