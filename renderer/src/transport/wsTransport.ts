/**
 * `ContractTransport` over the browser host's WebSocket (frames: app/contract/wire.ts).
 *
 * - Invokes made before the socket is open (or while it is reconnecting) wait in a queue and go
 *   out once it opens: they never reached the host, so sending them later is safe.
 * - Invokes already sent when the socket drops cannot be known to have run or not, so they fail
 *   with `connection-lost` instead of being replayed.
 * - A dropped socket is reopened with exponential backoff; `onStatus` reports every change so the
 *   UI can show "connection to Quiver lost — reconnecting" and reload its state afterwards.
 */
import type { ContractTransport } from '../../../app/contract/api.ts';
import type { CommandName, Result } from '../../../app/contract/commands.ts';
import type { EventEnvelope } from '../../../app/contract/events.ts';
import { MAX_FRAME_BYTES, type HostFrame, type InvokeFrame } from '../../../app/contract/wire.ts';

/**
 * `connecting`: first attempt; `open`; `reconnecting`: the link dropped and we are trying again;
 * `unauthorized`: the host refused this page's token (Quiver restarted with a new one): no retry;
 * `stopped`: the host said it was stopping: retried slowly, in case it comes back on the same
 * port with the same token.
 */
export type LinkStatus = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'stopped';

/** The host's close codes (app/host/browserHost.ts CLOSE_UNAUTHORIZED, CLOSE_STOPPED). */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_STOPPED = 4001;
const UNAUTHORIZED_TEXT =
  "This page's link to Quiver is not valid any more. Open the link Quiver printed when it started.";

export interface WsTransportOptions {
  url: string;
  onStatus?: (status: LinkStatus) => void;
  /** First retry delay; doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Delay between attempts once the host said it stopped. */
  stoppedDelayMs?: number;
  /** Injected in tests; defaults to the browser's WebSocket. */
  createSocket?: (url: string) => WebSocket;
}

export interface WsTransport extends ContractTransport {
  readonly status: LinkStatus;
  /** Closes the socket for good and fails everything still pending. */
  close(): void;
}

const lost = (message: string): Result<unknown> => ({ ok: false, error: { code: 'connection-lost', message } });

export function createWsTransport(options: WsTransportOptions): WsTransport {
  const initialDelay = options.initialDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const stoppedDelay = options.stoppedDelayMs ?? 3_000;
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url));
  const listeners = new Set<(event: EventEnvelope) => void>();
  /** Sent, waiting for their `result` frame. */
  const pending = new Map<number, (result: Result<unknown>) => void>();
  /** Not yet sent because the socket is not open. */
  const queue: { frame: InvokeFrame; resolve: (result: Result<unknown>) => void }[] = [];

  let status: LinkStatus = 'connecting';
  let socket: WebSocket | null = null;
  let seq = 0;
  let delay = initialDelay;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  const setStatus = (next: LinkStatus) => {
    if (next === status) return;
    status = next;
    options.onStatus?.(next);
  };

  const send = (frame: InvokeFrame, resolve: (result: Result<unknown>) => void) => {
    pending.set(frame.seq, resolve);
    socket!.send(JSON.stringify(frame));
  };

  const onFrame = (data: unknown) => {
    if (typeof data !== 'string' || data.length > MAX_FRAME_BYTES) {
      console.warn('Quiver host sent a frame that is not JSON text or is too large; ignored.');
      return;
    }
    let frame: HostFrame;
    try {
      frame = JSON.parse(data) as HostFrame;
    } catch (error) {
      console.warn('Quiver host sent a frame that is not JSON; ignored.', error);
      return;
    }
    if (frame.kind === 'result') {
      const resolve = pending.get(frame.seq);
      if (!resolve) return;
      pending.delete(frame.seq);
      resolve(frame.result);
    } else if (frame.kind === 'event') {
      for (const listener of listeners) listener(frame.event);
    }
  };

  const failPending = (message: string) => {
    for (const resolve of pending.values()) resolve(lost(message));
    pending.clear();
  };

  const connect = () => {
    retryTimer = null;
    const ws = createSocket(options.url);
    socket = ws;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      delay = initialDelay;
      setStatus('open');
      for (const item of queue.splice(0)) send(item.frame, item.resolve);
    });
    ws.addEventListener('message', (event) => {
      if (socket === ws) onFrame(event.data);
    });
    // `error` is always followed by `close`, which is where the retry is scheduled.
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return;
      socket = null;
      if (event.code === CLOSE_UNAUTHORIZED && !closed) {
        // The host read nothing from this socket; another attempt would be refused the same way:
        // stop, and fail what was sent or waited for the link.
        closed = true;
        setStatus('unauthorized');
        failPending(UNAUTHORIZED_TEXT);
        for (const item of queue.splice(0)) item.resolve(lost(UNAUTHORIZED_TEXT));
        return;
      }
      failPending('The connection to Quiver was lost before it answered. Check the result and try again.');
      if (closed) return;
      // Once stopped, stay 'stopped' (and slow) until a socket opens again.
      if (event.code === CLOSE_STOPPED || status === 'stopped') {
        setStatus('stopped');
        retryTimer = setTimeout(connect, stoppedDelay);
        return;
      }
      setStatus('reconnecting');
      retryTimer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, maxDelay);
    });
  };

  connect();

  return {
    get status() {
      return status;
    },
    invoke(name: CommandName, args: unknown): Promise<Result<unknown>> {
      if (status === 'unauthorized') return Promise.resolve(lost(UNAUTHORIZED_TEXT));
      if (closed) return Promise.resolve(lost('Quiver has closed its connection to the host.'));
      return new Promise((resolve) => {
        const frame: InvokeFrame = { kind: 'invoke', seq: ++seq, name, args };
        if (socket && socket.readyState === socket.OPEN) send(frame, resolve);
        else queue.push({ frame, resolve });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      socket?.close();
      socket = null;
      failPending('Quiver has closed its connection to the host.');
      for (const item of queue.splice(0)) item.resolve(lost('Quiver has closed its connection to the host.'));
    },
  };
}
