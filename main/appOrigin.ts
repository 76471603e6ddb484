/**
 * Where the UI comes from. In a built app the renderer is served from the privileged custom
 * scheme `app://quiver/` (Electron security checklist #18: avoid file://, prefer a custom
 * protocol), in development from electron-vite's dev server.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'quiver';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * `scheme://host[:port]` of a URL, or null when it does not parse. WHATWG `URL.origin` is the
 * string "null" for non-special schemes like `app:`, so it cannot be used to compare them.
 */
export function originOf(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const parsed = new URL(url);
  if (parsed.host === '') return null;
  return `${parsed.protocol}//${parsed.host}`;
}
