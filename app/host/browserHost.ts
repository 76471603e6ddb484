/**
 * The browser host: serves the built renderer and the contract over a WebSocket on 127.0.0.1, for
 * machines without an Electron runtime and for the e2e tests. It is a second host of the same
 * contract, so every command still goes through `dispatch` (validation cannot be skipped here).
 *
 * Who may talk to it: only a page that knows the per-run random token (it travels in the URL
 * fragment, which browsers never send to servers) AND whose `Origin` is this host's own origin.
 * `url` must not be put on a command line (`ps` shows it to every local user): `npm start` hands
 * the browser a 0600 launch page that carries it (launchPage.ts).
 * The Host header is checked too, so a DNS-rebound name cannot reach the socket.
 *
 * Client protocol (app/contract/wire.ts): open `ws://127.0.0.1:PORT/ws?token=TOKEN`; send
 * `{kind: 'invoke', seq, name, args}`; receive `{kind: 'result', seq, result}` and
 * `{kind: 'event', event}`. A malformed frame closes that socket with 1008 (policy violation).
 * A socket from our own origin with a wrong or missing token is accepted only to be closed at once
 * with 4401 (CLOSE_UNAUTHORIZED), so the page can say its link is stale instead of retrying; it
 * never reaches the core. When the host stops it closes every socket with 4001 (CLOSE_STOPPED).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { dispatch, MAX_FRAME_BYTES, parseInvokeFrame, type EventEnvelope, type HostFrame } from '../contract/index.ts';
import type { QuiverCore } from '../core.ts';
import { contentSecurityPolicy, SECURITY_HEADERS } from './contentSecurityPolicy.ts';
import { contentTypeFor, resolveStaticPath } from './staticFiles.ts';

/** WebSocket close code for a frame that breaks the protocol (RFC 6455 §7.4.1: 1008 policy violation). */
export const CLOSE_POLICY_VIOLATION = 1008;
/**
 * Close code for a socket whose token is wrong or stale (a page left open across a restart of
 * Quiver, which makes a new token). RFC 6455 §7.4.2: "Status codes in the range 4000-4999 are
 * reserved for private use". A refused HTTP upgrade would reach the page only as 1006, the same as
 * a host that is not there, and the page would retry for ever; this code tells it to stop.
 */
export const CLOSE_UNAUTHORIZED = 4401;
/** Close code sent to every page when the host stops (Quiver is quitting): not a network fault. */
export const CLOSE_STOPPED = 4001;
/** Path of the contract WebSocket. */
export const WS_PATH = '/ws';

export interface BrowserHostOptions {
  core: QuiverCore;
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Loopback only, by design. */
  host?: '127.0.0.1';
  /** Where handler failures without a code go (they reach the page as `internal`). */
  log?: (message: string, detail?: unknown) => void;
  /**
   * Left out in production: each run makes a fresh random token. A test that stops a host and
   * starts another on the same port passes the first one's token, so that a page still open can
   * reconnect as it would to a host that never went away. At least 43 base64url characters (256 bits).
   */
  token?: string;
}

export interface BrowserHost {
  /** `http://127.0.0.1:PORT/#token=TOKEN`: open this in a browser. */
  url: string;
  port: number;
  token: string;
  /** Closes every socket and the server. Does not close the core: its owner does. */
  close(): Promise<void>;
}

/** Starts serving; resolves once the server listens. */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const { core, staticDir } = options;
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new TypeError('startBrowserHost: the browser host only binds 127.0.0.1');
  const log = options.log ?? (() => undefined);
  if (options.token !== undefined && !/^[A-Za-z0-9_-]{43,}$/.test(options.token)) {
    throw new TypeError('startBrowserHost: a token must be at least 43 base64url characters');
  }
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenDigest = sha256(token);

  // Filled in once we listen: the origin and headers depend on the port.
  let origin = '';
  let hostHeader = '';
  let headers: Record<string, string> = {};

  const server = createServer((request, response) => {
    serveStatic(request, response).catch((error: unknown) => {
      log('browser host: static file failed', error);
      if (!response.headersSent) response.writeHead(500, headers);
      response.end();
    });
  });

  async function serveStatic(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.headers.host !== hostHeader) {
      // A request for another name that resolved here (DNS rebinding) gets nothing.
      response.writeHead(421, headers).end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = (request.url ?? '/').split(/[?#]/, 1)[0] ?? '/';
    const file = await resolveStaticPath(staticDir, pathname);
    const info = file === null ? null : await stat(file);
    if (file === null || info === null || !info.isFile()) {
      response.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('Not found\n');
      return;
    }
    response.writeHead(200, {
      ...headers,
      'Content-Type': contentTypeFor(file),
      'Content-Length': String(info.size),
      'Cache-Control': 'no-store',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file)
      .on('error', (error) => {
        log('browser host: read failed', error);
        response.destroy(error);
      })
      .pipe(response);
  }

  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A peer that resets mid-handshake must not become an uncaught 'error' event.
    socket.on('error', (error) => {
      if (!isRoutineReset(error)) log('browser host: upgrade socket error', error);
    });
    const refusal = refuseUpgrade(request);
    if (refusal === 'unauthorized') {
      // Origin and Host are ours: only then is it worth telling the page that its token is stale.
      wss.handleUpgrade(request, socket, head, (ws) => refuseToken(ws));
      return;
    }
    if (refusal !== null) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws));
  });

  /** A socket with a wrong token: closed with 4401 before it can send anything that is read. */
  function refuseToken(ws: WebSocket): void {
    ws.on('error', (error) => {
      if (!isRoutineReset(error)) log('browser host: socket error', error);
    });
    ws.close(CLOSE_UNAUTHORIZED, 'unauthorized');
  }

  /**
   * Null when the upgrade may proceed, 'unauthorized' when only the token is wrong, else the status
   * line to refuse it with.
   */
  function refuseUpgrade(request: IncomingMessage): string | null {
    if (!URL.canParse(request.url ?? '', origin)) return '400 Bad Request';
    const url = new URL(request.url ?? '', origin);
    if (url.pathname !== WS_PATH) return '404 Not Found';
    if (request.headers.host !== hostHeader) return '421 Misdirected Request';
    // A page on another origin can open a WebSocket to loopback; browsers always send its Origin.
    if (request.headers.origin !== origin) return '403 Forbidden';
    const offered = url.searchParams.get('token');
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    if (offered === null || !timingSafeEqual(sha256(offered), tokenDigest)) return 'unauthorized';
    return null;
  }

  function accept(ws: WebSocket): void {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', (error) => {
      if (!isRoutineReset(error)) log('browser host: socket error', error);
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const frame = isBinary ? null : parseInvokeFrame(rawToString(data));
      if (frame === null) {
        ws.close(CLOSE_POLICY_VIOLATION, 'malformed frame');
        return;
      }
      void dispatch(core.handlers, frame.name, frame.args, (error) =>
        log(`browser host: ${frame.name} failed`, error),
      ).then((result) => send(ws, { kind: 'result', seq: frame.seq, result }));
    });
  }

  const peerGone = (error: Error) => ['EPIPE', 'ECONNRESET'].includes((error as NodeJS.ErrnoException).code ?? '');

  function send(ws: WebSocket, frame: HostFrame): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(frame), (error) => {
      // A page that went away (reloaded, closed) between the check above and the write is no
      // failure: its socket is gone and the next page loads everything afresh. A CI run of the draft
      // test (fixes.spec.ts: a reload right after typing) logged 'write EPIPE' here.
      if (!error || ws.readyState !== WebSocket.OPEN || peerGone(error)) return;
      log('browser host: send failed', error);
    });
  }

  const unsubscribe = core.subscribe((event: EventEnvelope) => {
    for (const ws of sockets) send(ws, { kind: 'event', event });
  });

  try {
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
  } catch (error) {
    unsubscribe();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  origin = `http://${host}:${port}`;
  hostHeader = `${host}:${port}`;
  headers = {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': contentSecurityPolicy([`ws://${host}:${port}`]),
  };
  server.on('error', (error) => log('browser host: server error', error));

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/#token=${token}`,
    port,
    token,
    close() {
      closing ??= (async () => {
        unsubscribe();
        for (const ws of sockets) ws.close(CLOSE_STOPPED, 'stopped');
        await new Promise<void>((resolvePromise) => wss.close(() => resolvePromise()));
        const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
        server.closeAllConnections();
        for (const ws of sockets) ws.terminate();
        await closed;
      })();
      return closing;
    },
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** A page that reloads or a tab that closes resets its connection: routine, not worth a log line. */
function isRoutineReset(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
