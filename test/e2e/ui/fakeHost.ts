/**
 * A fake Quiver host for the UI tests: a static server for the built renderer (with the CSP
 * header the real host sends) and the browser host's WebSocket at /ws?token=…, speaking the
 * frames of app/contract/wire.ts. Commands go through the contract's real `dispatch`, so argument
 * validation is the real one; the handlers keep their data in memory.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatch, type ArgsOf, type CommandName, type Handlers } from '../../../app/contract/commands.ts';
import type { EventEnvelope } from '../../../app/contract/events.ts';
import type {
  AccountView,
  CertificateDecisionView,
  MessageView,
  PinView,
  RosterItemView,
  SecurityRecord,
} from '../../../app/contract/viewModels.ts';
import { parseInvokeFrame, type HostFrame } from '../../../app/contract/wire.ts';

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws://127.0.0.1:*; img-src 'self' data:";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** What a handler throws to make `dispatch` answer `{ok: false}` with this code and message. */
export class FakeHostError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface FakeData {
  accounts: AccountView[];
  rosters: Record<string, RosterItemView[]>;
  messages: MessageView[];
  records: SecurityRecord[];
  /** Certificates waiting for a decision, as `certificate.pending` returns them. */
  decisions: CertificateDecisionView[];
  pins: PinView[];
}

export interface FakeHost {
  /** `http://127.0.0.1:PORT/#token=…`: what the real host prints. */
  readonly pageUrl: string;
  readonly data: FakeData;
  /** Every command that reached a handler (after validation), in order. */
  readonly calls: { name: CommandName; args: unknown }[];
  emit(event: EventEnvelope): void;
  /** Adds a pending decision and announces it, as the real host does when a proof fails. */
  needDecision(decision: CertificateDecisionView): void;
  /** The next call of `name` fails with this error. */
  failNext(name: CommandName, code: string, message: string): void;
  /** The next call of `name` never answers (to test what the UI does when the link drops meanwhile). */
  holdNext(name: CommandName): void;
  /** Resolves when a held call has arrived. */
  waitForHeld(): Promise<void>;
  /** Closes every open socket and refuses new ones until `resume()`. */
  dropConnections(): void;
  resume(): void;
  /** Resolves when `count` sockets have been accepted since the host started. */
  waitForConnections(count: number): Promise<void>;
  /** Resolves when `count` upgrade attempts have been refused since the host started. */
  waitForRefusals(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeHost(root: string, seed: Partial<FakeData> = {}): Promise<FakeHost> {
  const token = randomBytes(16).toString('hex');
  const data: FakeData = {
    accounts: [],
    rosters: {},
    messages: [],
    records: [],
    decisions: [],
    pins: [],
    ...structuredClone(seed),
  };
  const calls: { name: CommandName; args: unknown }[] = [];
  const failures = new Map<CommandName, FakeHostError>();
  const holds = new Set<CommandName>();
  let heldArrived: (() => void) | null = null;
  let held = new Promise<void>((resolve) => (heldArrived = resolve));
  const sockets = new Set<WebSocket>();
  let accepting = true;
  const counters = { accepted: 0, refused: 0 };
  const waiters: { counter: keyof typeof counters; count: number; resolve: () => void }[] = [];
  const bump = (counter: keyof typeof counters) => {
    counters[counter]++;
    for (const w of waiters.filter((x) => x.counter === counter && counters[counter] >= x.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const waitFor = (counter: keyof typeof counters, count: number) =>
    counters[counter] >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ counter, count, resolve }));
  let nextId = 1000;

  const broadcast = (event: EventEnvelope) => {
    const text = JSON.stringify({ kind: 'event', event } satisfies HostFrame);
    for (const ws of sockets) ws.send(text);
  };

  const findAccount = (accountId: string) => {
    const found = data.accounts.find((a) => a.id === accountId);
    if (!found) throw new FakeHostError('no-such-account', 'This account no longer exists in Quiver.');
    return found;
  };

  const pinsOf = (accountId: string) => data.pins.filter((p) => p.accountId === accountId);

  const handlers: Handlers = {
    'account.list': () => data.accounts,
    'account.add': (args) => {
      if (data.accounts.some((a) => a.jid === args.jid)) {
        throw new FakeHostError('account-exists', `${args.jid} is already set up in Quiver.`);
      }
      const created: AccountView = {
        id: `acc-${nextId++}`,
        jid: args.jid,
        enabled: true,
        status: 'connecting',
        boundJid: null,
        error: null,
        settings: {
          resolver: args.resolver ?? null,
          resolverValidates: args.resolverValidates ?? false,
          extraCaPem: args.extraCaPem ?? null,
          transport: args.transport ?? 'auto',
        },
      };
      data.accounts.push(created);
      data.rosters[created.id] = [];
      return created;
    },
    'account.update': (args) => {
      const found = findAccount(args.accountId);
      if (args.resolver !== undefined) found.settings.resolver = args.resolver;
      if (args.resolverValidates !== undefined) found.settings.resolverValidates = args.resolverValidates;
      if (args.extraCaPem !== undefined) found.settings.extraCaPem = args.extraCaPem;
      if (args.transport !== undefined) found.settings.transport = args.transport;
      return found;
    },
    'account.remove': (args) => {
      findAccount(args.accountId);
      data.accounts = data.accounts.filter((a) => a.id !== args.accountId);
      return null;
    },
    'account.setEnabled': (args) => {
      const found = findAccount(args.accountId);
      found.enabled = args.enabled;
      found.status = args.enabled ? 'connecting' : 'disabled';
      return found;
    },
    'roster.list': (args) => data.rosters[findAccount(args.accountId).id] ?? [],
    'chat.list': () => [],
    'chat.history': (args) => {
      const limit = args.limit ?? 50;
      const before = args.before === undefined ? undefined : data.messages.find((m) => m.id === args.before);
      const older = data.messages
        .filter((m) => m.accountId === args.accountId && m.peer === args.peer)
        .filter((m) => !before || m.at < before.at)
        .sort((a, b) => a.at - b.at);
      return older.slice(-limit);
    },
    'chat.send': (args) => {
      findAccount(args.accountId);
      const sent: MessageView = {
        id: `m-${nextId++}`,
        accountId: args.accountId,
        peer: args.to,
        direction: 'out',
        body: args.body,
        stanzaId: `s-${nextId}`,
        at: Date.now(),
        state: 'queued',
      };
      data.messages.push(sent);
      // The real host announces stored messages to every window, including the sender's.
      broadcast({ name: 'message.added', payload: { message: sent } });
      return sent;
    },
    'connection.list': (args) => data.records.filter((r) => r.accountId === args.accountId).slice(0, args.limit ?? 200),
    'certificate.pending': () => data.decisions,
    'certificate.decide': (args) => {
      const decision = data.decisions.find((d) => d.id === args.decisionId);
      if (!decision) throw new FakeHostError('no-such-decision', 'This certificate no longer waits for a decision.');
      data.decisions = data.decisions.filter((d) => d.id !== decision.id);
      broadcast({ name: 'certificate.decisionResolved', payload: { decisionId: decision.id } });
      if (args.choice === 'pin') {
        // Pinning the presented key replaces what was pinned for this account and domain (the
        // `key-changed` case); the real host does the same.
        data.pins = data.pins.filter((p) => p.accountId !== decision.accountId || p.domain !== decision.domain);
        data.pins.push({
          accountId: decision.accountId,
          domain: decision.domain,
          spkiSha256: decision.presentedSpkiSha256,
          certificate: decision.certificates[0] ?? null,
          createdAt: Date.now(),
        });
        broadcast({
          name: 'pin.changed',
          payload: { accountId: decision.accountId, pins: pinsOf(decision.accountId) },
        });
      }
      return null;
    },
    'pin.list': (args) => pinsOf(findAccount(args.accountId).id),
    'pin.remove': (args) => {
      const found = data.pins.find(
        (p) => p.accountId === args.accountId && p.domain === args.domain && p.spkiSha256 === args.spkiSha256,
      );
      if (!found) throw new FakeHostError('no-such-pin', `No key with this fingerprint is pinned for ${args.domain}.`);
      data.pins = data.pins.filter((p) => p !== found);
      broadcast({ name: 'pin.changed', payload: { accountId: args.accountId, pins: pinsOf(args.accountId) } });
      return null;
    },
  };

  // Wrap every handler: record the call, then fail it if the test asked for that.
  const recorded = Object.fromEntries(
    (Object.keys(handlers) as CommandName[]).map((name) => [
      name,
      (args: ArgsOf<typeof name>) => {
        calls.push({ name, args });
        const failure = failures.get(name);
        if (failure) {
          failures.delete(name);
          throw failure;
        }
        if (holds.delete(name)) {
          heldArrived?.();
          return new Promise<never>(() => undefined);
        }
        return (handlers[name] as (a: unknown) => unknown)(args);
      },
    ]),
  ) as unknown as Handlers;

  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    } catch (error) {
      res.writeHead((error as NodeJS.ErrnoException).code === 'ENOENT' ? 404 : 500).end();
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1_048_576 });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    bump('accepted');
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', async (raw, isBinary) => {
      const frame = isBinary ? null : parseInvokeFrame(raw.toString());
      if (!frame) {
        ws.close(1003, 'bad frame');
        return;
      }
      const result = await dispatch(recorded, frame.name, frame.args, (error) =>
        console.error('fake host handler failed', error),
      );
      if (ws.readyState === ws.OPEN)
        ws.send(JSON.stringify({ kind: 'result', seq: frame.seq, result } satisfies HostFrame));
    });
  });

  let origin = '';
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ok =
      accepting && url.pathname === '/ws' && url.searchParams.get('token') === token && req.headers.origin === origin;
    if (!ok) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      bump('refused');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    pageUrl: `${origin}/#token=${token}`,
    data,
    calls,
    emit: broadcast,
    needDecision(decision) {
      data.decisions.push(decision);
      broadcast({ name: 'certificate.decisionNeeded', payload: { decision } });
    },
    failNext(name, code, message) {
      failures.set(name, new FakeHostError(code, message));
    },
    holdNext(name) {
      holds.add(name);
      held = new Promise<void>((resolve) => (heldArrived = resolve));
    },
    waitForHeld() {
      return held;
    },
    dropConnections() {
      accepting = false;
      for (const ws of sockets) ws.terminate();
    },
    resume() {
      accepting = true;
    },
    waitForConnections: (count) => waitFor('accepted', count),
    waitForRefusals: (count) => waitFor('refused', count),
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
