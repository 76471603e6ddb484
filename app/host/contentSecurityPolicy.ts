/**
 * The one Content-Security-Policy Quiver's UI runs under, in Electron (as a response header,
 * Electron security checklist #7) and in the browser host. Only `connect-src` differs: the browser
 * host adds its own WebSocket origin.
 */

/** The policy; `extraConnectSrc` are origins added to `connect-src` (e.g. `ws://127.0.0.1:PORT`). */
export function contentSecurityPolicy(extraConnectSrc: readonly string[] = []): string {
  for (const source of extraConnectSrc) {
    // A source with a space or semicolon would smuggle another directive into the header.
    if (!/^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9.[\]:-]+$/.test(source)) {
      throw new TypeError(`contentSecurityPolicy: not a plain origin: ${JSON.stringify(source)}`);
    }
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    ['connect-src', "'self'", ...extraConnectSrc].join(' '),
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Headers every UI response carries besides the CSP: no MIME sniffing, no referrer leaves the app,
 * no other origin can hold a reference to our window or embed our files.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};
