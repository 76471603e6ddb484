/**
 * One small JSON document over verified HTTPS: POSH (RFC 7711) and host-meta (XEP-0156 /
 * XEP-0487) both need exactly this, and both rest on it for secure delegation, so it is strict.
 *
 * - PKIX as for any TLS client (RFC 2818 §3.1 / RFC 6125): the certificate must chain to the
 *   account's trust anchors (system roots plus its extra CAs) and name the URL's host.
 * - Host names are resolved with the caller's resolver (the account's DNS client: lab and
 *   split-horizon names exist only there); address literals are used as they are.
 * - Bounded: one deadline for the whole fetch including redirects, a body size limit, a redirect
 *   limit, and redirects only to https (RFC 7711 allows POSH documents only over HTTPS, and
 *   XEP-0487's business rules say host-meta "MUST only use secure connections").
 */
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { HttpsJsonOptions } from '../httpsJson.ts';
import { SecurityError } from '../securityError.ts';
import type { TrustAnchors } from '../trustAnchors.ts';

export const DEFAULT_HTTPS_TIMEOUT_MS = 5000;
export const DEFAULT_HTTPS_MAX_BYTES = 64 * 1024;
export const DEFAULT_HTTPS_MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const pemCache = new WeakMap<TrustAnchors, string[]>();
/**
 * One TLS context per anchor set: building one from ~145 roots costs about 10 ms of CPU, and every
 * account's discovery fetches host-meta (POSH too) with the same anchors.
 */
const contextCache = new WeakMap<TrustAnchors, tls.SecureContext>();

function secureContextFor(anchors: TrustAnchors): tls.SecureContext {
  let context = contextCache.get(anchors);
  if (!context) {
    context = tls.createSecureContext({ ca: caPems(anchors) });
    contextCache.set(anchors, context);
  }
  return context;
}

/**
 * The `FetchHttpsJson` of app/security/httpsJson.ts: GETs `url` (https only) and parses the body as JSON.
 * @returns the final URL (after redirects) and the parsed value
 * @throws SecurityError `https-failed` (network, TLS, timeout, status other than 200; `httpStatus`
 *   set when there was a response), `https-too-large`, `https-bad-json`, `https-redirect`
 */
export async function fetchHttpsJson(url: string, opts: HttpsJsonOptions): Promise<{ url: string; json: unknown }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HTTPS_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_HTTPS_MAX_BYTES;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_HTTPS_MAX_REDIRECTS;
  const deadline = Date.now() + timeoutMs;
  let current = parseHttpsUrl(url);
  for (let redirects = 0; ; redirects += 1) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timeoutError(current, timeoutMs);
    const response = await getOnce(current, opts, remaining, maxBytes, timeoutMs);
    if (response.kind === 'body') return { url: current.href, json: parseJson(current, response.body) };
    if (redirects >= maxRedirects) {
      throw new SecurityError(
        'https-redirect',
        `${current.host} redirected more than ${maxRedirects} times; Quiver stopped following (last: ${current.href}).`,
      );
    }
    let next: URL;
    try {
      next = new URL(response.location, current);
    } catch (error) {
      throw new SecurityError(
        'https-redirect',
        `${current.host} redirected to an invalid address (${response.location}).`,
        { cause: error },
      );
    }
    if (next.protocol !== 'https:') {
      throw new SecurityError(
        'https-redirect',
        `${current.host} redirected ${current.href} to ${next.href}, which is not HTTPS; Quiver only follows redirects to https addresses.`,
      );
    }
    current = next;
  }
}

function parseHttpsUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new SecurityError('https-failed', `"${url}" is not a valid address.`, { cause: error });
  }
  if (parsed.protocol !== 'https:')
    throw new SecurityError(
      'https-failed',
      `${url} is not an https address; Quiver fetches these documents only over HTTPS.`,
    );
  return parsed;
}

function timeoutError(url: URL, timeoutMs: number): SecurityError {
  return new SecurityError('https-failed', `${url.host} did not answer ${url.href} within ${timeoutMs} ms.`);
}

function parseJson(url: URL, body: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch (error) {
    throw new SecurityError(
      'https-bad-json',
      `${url.href} did not return a JSON document (${(error as Error).message}).`,
      { cause: error },
    );
  }
}

function caPems(anchors: TrustAnchors): string[] {
  let pems = pemCache.get(anchors);
  if (!pems) {
    pems = anchors.anchors.map((anchor) => {
      const base64 = Buffer.from(anchor.der)
        .toString('base64')
        .replace(/(.{64})/g, '$1\n');
      return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
    });
    pemCache.set(anchors, pems);
  }
  return pems;
}

/** A `lookup` for net/tls that asks the caller's resolver (Node calls it with `all: true` when it races families). */
function lookupWith(resolve: (host: string) => Promise<string[]>): net.LookupFunction {
  return ((
    hostname: string,
    options: { all?: boolean },
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | { address: string; family: number }[],
      family?: number,
    ) => void,
  ) => {
    resolve(hostname).then(
      (addresses) => {
        const entries = addresses
          .filter((address) => net.isIP(address) !== 0)
          .map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
        const first = entries[0];
        if (!first) {
          const error: NodeJS.ErrnoException = new Error(`${hostname} has no address in DNS`);
          error.code = 'ENOTFOUND';
          callback(error, '');
        } else if (options.all) callback(null, entries);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), ''),
    );
  }) as net.LookupFunction;
}

type Response = { kind: 'body'; body: Buffer } | { kind: 'redirect'; location: string };

function getOnce(
  url: URL,
  opts: HttpsJsonOptions,
  remainingMs: number,
  maxBytes: number,
  timeoutMs: number,
): Promise<Response> {
  if (opts.anchors.anchors.length === 0)
    return Promise.reject(
      new SecurityError('https-failed', `Quiver has no trust anchors to check ${url.host}'s certificate with.`),
    );
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: SecurityError | null, response?: Response): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      request.destroy();
      if (error) reject(error);
      else if (response) resolve(response);
    };
    const request = https.request({
      host: hostname,
      port: url.port === '' ? (opts.httpsPort ?? 443) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'Quiver' },
      // Passed on to tls.connect (Node's https types omit it).
      ...({ secureContext: secureContextFor(opts.anchors) } as https.RequestOptions),
      // RFC 6066 §3: no SNI for address literals.
      servername: net.isIP(hostname) ? '' : hostname,
      rejectUnauthorized: true,
      agent: false,
      ...(opts.resolve && !net.isIP(hostname) ? { lookup: lookupWith(opts.resolve) } : {}),
    });
    const timer = setTimeout(() => finish(timeoutError(url, timeoutMs)), remainingMs);
    const onAbort = (): void =>
      finish(new SecurityError('https-failed', `Quiver stopped fetching ${url.href}: it was no longer needed.`));
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error: NodeJS.ErrnoException) => finish(networkError(url, error)));
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && typeof location === 'string') {
        response.resume();
        finish(null, { kind: 'redirect', location });
        return;
      }
      if (status !== 200) {
        response.resume();
        finish(
          new SecurityError(
            'https-failed',
            `${url.href} answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}.`,
            { httpStatus: status },
          ),
        );
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        finish(tooLarge(url, maxBytes));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > maxBytes) finish(tooLarge(url, maxBytes));
        else chunks.push(chunk);
      });
      response.on('end', () => finish(null, { kind: 'body', body: Buffer.concat(chunks) }));
      response.on('error', (error: NodeJS.ErrnoException) => finish(networkError(url, error)));
    });
    request.end();
  });
}

function tooLarge(url: URL, maxBytes: number): SecurityError {
  return new SecurityError(
    'https-too-large',
    `${url.href} is larger than ${maxBytes} bytes, far more than such a document needs; Quiver did not read it.`,
  );
}

/** Node's TLS verification failures carry OpenSSL's codes (`DEPTH_ZERO_SELF_SIGNED_CERT`, ...) or `ERR_TLS_CERT_ALTNAME_INVALID`. */
function networkError(url: URL, error: NodeJS.ErrnoException): SecurityError {
  const code = error.code ?? '';
  const certificate = code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);
  const message = certificate
    ? `${url.host} presented a certificate Quiver does not trust for ${url.hostname} (${error.message}), so ${url.href} was not used.`
    : `Could not fetch ${url.href}: ${error.message}`;
  return new SecurityError('https-failed', message, { cause: error });
}
