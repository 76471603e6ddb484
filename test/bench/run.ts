/**
 * `npm run bench`: Quiver's QUIC, @matrixai/quic (quiche) and node:tls over TCP, side by side in
 * one run on loopback. Prints one table. Each transport is measured the same way:
 *   - handshake: median of fresh connections (client and server in this process);
 *   - throughput: one stream, client -> server, with 200-byte and 16 KiB writes, after a warm-up
 *     transfer of each on the same connection: the median of three runs each, the transports
 *     taking turns (this machine is shared: its speed drifts by a third within minutes);
 *   - CPU seconds per MB (both ends, they share this process);
 *   - memory per idle connection and per open stream (heap + external after GC);
 *   - the longest event-loop stall during the 16 KiB transfer.
 */
import { createHmac, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { QUICClient, QUICServer, events, type QUICConnection, type QUICStream } from '@matrixai/quic';
import Logger, { LogLevel } from '@matrixai/logger';
import { QuicEndpoint } from '../../app/quic/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../app/quic/quicConnectionHandle.ts';
import { testCertificate } from '../support/quicPair.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const FIXTURES = new URL('../unit/quic/fixtures/', import.meta.url);
const KEY_PEM = readFileSync(new URL('server.key.pem', FIXTURES), 'utf8');
const CERT_PEM = readFileSync(new URL('server.cert.pem', FIXTURES), 'utf8');
const ALPN = 'xmpp-client';
const HANDSHAKES = Number(process.env.BENCH_HANDSHAKES ?? 40);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE ?? 20);
const STREAMS = 50;
/** Throughput runs per write size; the table shows the median. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** What a transport must provide to be measured. */
interface Subject {
  name: string;
  /** Bytes to transfer per throughput run (smaller for slow subjects so the bench stays bounded). */
  bytes: { small: number; large: number };
  setup(): Promise<void>;
  /** One connection; resolves when usable. */
  connect(): Promise<Conn>;
  teardown(): Promise<void>;
}

interface Conn {
  /** Sends `total` bytes in `chunk`-sized writes on one new stream; resolves when the server has them all. */
  transfer(total: number, chunk: number): Promise<void>;
  /** Opens `n` streams and writes one byte on each; resolves when the server saw them all. */
  openStreams(n: number): Promise<void>;
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// Quiver

/**
 * Quiver's QUIC. `maxDatagramSize` caps path MTU discovery (undefined: the endpoint's default,
 * up to what the loopback interface carries); the row's name tells the size in use.
 */
function quiver(maxDatagramSize: number | undefined, label: string): Subject {
  let server: QuicEndpoint;
  let inUse = 0;
  let client: QuicEndpoint;
  const received = new Map<number, { got: number; want: number; done: () => void }>();
  let streamsSeen = 0;
  let streamsWanted = 0;
  let streamsDone: () => void = () => undefined;
  let nextKey = 0;
  return {
    get name() {
      return inUse ? `${label}: ${inUse}-byte datagrams` : label;
    },
    bytes: { small: 16 << 20, large: 64 << 20 },
    async setup() {
      server = await QuicEndpoint.bind();
      client = await QuicEndpoint.bind();
      server.listen({
        alpn: [ALPN],
        ...testCertificate(),
        ...(maxDatagramSize ? { maxDatagramSize } : {}),
        onConnection: (c: QuicConnectionHandle) => {
          c.on('stream', (s: QuicStreamHandle) => {
            let key = -1;
            s.once('data', (d: Uint8Array) => {
              // The first 4 bytes name the transfer; a 1-byte stream is a stream-count probe.
              if (d.length === 1) {
                if (++streamsSeen === streamsWanted) streamsDone();
                return;
              }
              key = new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
              const r = received.get(key)!;
              r.got += d.length;
              s.on('data', (more: Uint8Array) => {
                r.got += more.length;
                if (r.got >= r.want) r.done();
              });
              if (r.got >= r.want) r.done();
            });
          });
        },
      });
    },
    async connect() {
      const conn = client.connect({ serverName: 'localhost', alpn: [ALPN], remoteAddress: server.address, ...(maxDatagramSize ? { maxDatagramSize } : {}) });
      conn.on('peer-certificate', () => conn.acceptPeer());
      await conn.established;
      return {
        transfer(total, chunk) {
          const key = nextKey++;
          return new Promise<void>((resolve) => {
            received.set(key, { got: 0, want: total, done: resolve });
            const s = conn.openStream(true)!;
            const buf = new Uint8Array(chunk);
            new DataView(buf.buffer).setUint32(0, key);
            let sent = 0;
            const pump = (): void => {
              while (sent < total) {
                sent += chunk;
                if (!s.write(buf, sent >= total)) {
                  s.once('drain', pump);
                  return;
                }
              }
            };
            pump();
          });
        },
        openStreams(n) {
          streamsSeen = 0;
          streamsWanted = n;
          return new Promise<void>((resolve) => {
            streamsDone = resolve;
            for (let i = 0; i < n; i++) conn.openStream(true)!.write(Uint8Array.of(1));
          });
        },
        async close() {
          inUse = Math.max(inUse, conn.connection.stats.maxDatagramSize);
          conn.close(0, 'bench');
          await conn.closed;
        },
      };
    },
    async teardown() {
      await client.close();
      await server.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// @matrixai/quic

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function matrixai(): Subject {
  let server: QUICServer;
  const quiet = (): Logger => new Logger('bench', LogLevel.ERROR, []);
  let onStream: (s: QUICStream) => void = () => undefined;
  const clients: QUICClient[] = [];
  return {
    name: '@matrixai/quic 2.0.9',
    bytes: { small: 256 << 10, large: 2 << 20 },
    async setup() {
      server = new QUICServer({
        crypto: {
          key: toArrayBuffer(Buffer.alloc(32, 1)),
          ops: {
            sign: async (k, d) => toArrayBuffer(createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest()),
            verify: async (k, d, s) => createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest().equals(Buffer.from(s)),
          },
        },
        config: { key: KEY_PEM, cert: CERT_PEM, verifyPeer: false, applicationProtos: [ALPN] },
        logger: quiet(),
      });
      server.addEventListener(events.EventQUICServerConnection.name, (e) => {
        const conn = (e as events.EventQUICServerConnection).detail as QUICConnection;
        conn.addEventListener(events.EventQUICConnectionStream.name, (se) => onStream((se as events.EventQUICConnectionStream).detail));
      });
      await server.start({ host: '127.0.0.1', port: 0 });
    },
    async connect() {
      const client = await QUICClient.createQUICClient({
        host: '127.0.0.1',
        port: server.port,
        serverName: 'localhost',
        localHost: '127.0.0.1',
        crypto: { ops: { randomBytes: async (b: ArrayBuffer) => void randomFillSync(new Uint8Array(b)) } },
        config: { verifyPeer: false, applicationProtos: [ALPN] },
        logger: quiet(),
      });
      clients.push(client);
      return {
        async transfer(total, chunk) {
          const done = new Promise<void>((resolve) => {
            onStream = (s) => {
              void (async () => {
                let got = 0;
                for await (const c of s.readable) {
                  got += c.length;
                  if (got >= total) break;
                }
                resolve();
              })();
            };
          });
          const s = client.connection.newStream('bidi');
          const w = s.writable.getWriter();
          const buf = new Uint8Array(chunk);
          for (let sent = 0; sent < total; sent += chunk) await w.write(buf);
          await done;
          await w.close();
        },
        async openStreams(n) {
          let seen = 0;
          const done = new Promise<void>((resolve) => {
            onStream = (s) => {
              void s.readable
                .getReader()
                .read()
                .then(() => {
                  if (++seen === n) resolve();
                });
            };
          });
          for (let i = 0; i < n; i++) {
            const w = client.connection.newStream('bidi').writable.getWriter();
            void w.write(Uint8Array.of(1));
          }
          await done;
        },
        async close() {
          await client.destroy({ isApp: true, errorCode: 0, force: true });
        },
      };
    },
    async teardown() {
      for (const c of clients) await c.destroy({ force: true }).catch(() => undefined);
      await server.stop({ force: true });
    },
  };
}

// ------------------------------------------------------------------------------------------------
// node:tls over TCP (one TLS connection per "stream": TCP has no streams)

function nodeTls(): Subject {
  let server: ReturnType<typeof createTlsServer>;
  let port = 0;
  const pending: ((s: TLSSocket) => void)[] = [];
  return {
    name: 'node:tls over TCP',
    bytes: { small: 16 << 20, large: 128 << 20 },
    async setup() {
      server = createTlsServer({ key: KEY_PEM, cert: CERT_PEM, ALPNProtocols: [ALPN], minVersion: 'TLSv1.3' }, (s) => pending.shift()?.(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    },
    async connect() {
      /** A client socket and its server-side peer. */
      const open = async (): Promise<[TLSSocket, TLSSocket]> => {
        const serverSide = new Promise<TLSSocket>((r) => pending.push(r));
        const client = await new Promise<TLSSocket>((resolve, reject) => {
          const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: [ALPN], rejectUnauthorized: false }, () => resolve(s));
          s.once('error', reject);
        });
        return [client, await serverSide];
      };
      const pairs: [TLSSocket, TLSSocket][] = [await open()];
      return {
        transfer(total, chunk) {
          const [sock, peer] = pairs[0]!;
          return new Promise<void>((resolve) => {
            let got = 0;
            const onData = (d: Buffer): void => {
              got += d.length;
              if (got >= total) {
                peer.off('data', onData);
                resolve();
              }
            };
            peer.on('data', onData);
            const buf = new Uint8Array(chunk);
            let sent = 0;
            const pump = (): void => {
              while (sent < total) {
                sent += chunk;
                if (!sock.write(buf)) {
                  sock.once('drain', pump);
                  return;
                }
              }
            };
            pump();
          });
        },
        async openStreams(n) {
          // TCP has no streams: each "stream" is its own TLS connection (what XMPP over TLS does).
          const got: Promise<unknown>[] = [];
          for (let i = 0; i < n; i++) {
            const pair = await open();
            pairs.push(pair);
            got.push(new Promise((r) => pair[1].once('data', r)));
            pair[0].write(Uint8Array.of(1));
          }
          await Promise.all(got);
        },
        async close() {
          for (const [a, b] of pairs) {
            a.destroy();
            b.destroy();
          }
        },
      };
    },
    async teardown() {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ------------------------------------------------------------------------------------------------

interface Row {
  name: string;
  handshakeMs: number;
  small: number;
  large: number;
  cpuPerMb: number;
  idleKiB: number;
  streamKiB: number;
  stallMs: number;
}

/** Heap + external bytes once the last transfer's acknowledgments and sends have settled. */
async function memory(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Handshake time and memory, one subject at a time. */
async function measureAlone(subject: Subject): Promise<Pick<Row, 'handshakeMs' | 'idleKiB' | 'streamKiB'>> {
  // Handshake: warm up (the JIT: the first subject measured would otherwise pay for it), then the median.
  for (let i = 0; i < 10; i++) await (await subject.connect()).close();
  const times: number[] = [];
  for (let i = 0; i < HANDSHAKES; i++) {
    const t0 = performance.now();
    const c = await subject.connect();
    times.push(performance.now() - t0);
    await c.close();
  }

  // Memory per open stream.
  const conn = await subject.connect();
  let before = await memory();
  await conn.openStreams(STREAMS);
  const streamKiB = ((await memory()) - before) / STREAMS / 1024;
  await conn.close();

  // Memory per idle connection.
  before = await memory();
  const idle: Conn[] = [];
  for (let i = 0; i < IDLE_CONNECTIONS; i++) idle.push(await subject.connect());
  const idleKiB = ((await memory()) - before) / IDLE_CONNECTIONS / 1024;
  for (const c of idle) await c.close();
  return { handshakeMs: median(times), idleKiB, streamKiB };
}

/**
 * Throughput, CPU per MB and stalls, the subjects taking turns: run r of every subject comes
 * before run r + 1 of any, so a noisy neighbour slows them alike and the ratios hold. Each
 * figure is the median of RUNS; CPU per MB and the longest stall cover the large-write runs.
 */
async function measureTurns(subjects: Subject[]): Promise<Pick<Row, 'small' | 'large' | 'cpuPerMb' | 'stallMs'>[]> {
  const conns: Conn[] = [];
  for (const subject of subjects) {
    // TLS needs the server-side socket hooked before data flows: connect after setting the hook.
    const conn = await subject.connect();
    // Warm up the data path first (JIT, buffers, the congestion window): steady state is measured.
    await conn.transfer(subject.bytes.small / 4, 200);
    await conn.transfer(subject.bytes.large / 8, 16384);
    conns.push(conn);
  }
  /** One timed transfer, with its CPU time and longest event-loop stall. */
  const timed = async (conn: Conn, bytes: number, chunk: number): Promise<{ rate: number; cpuMicros: number; stallMs: number }> => {
    // The garbage of the transport before is collected now, not during this one's run; a short
    // transfer then lets the heap grow back to its working size (a collected heap starts small).
    gc();
    await conn.transfer(bytes / 8, chunk);
    // A histogram per run: one re-enabled would count the time it was off as a stall.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const cpu0 = process.cpuUsage();
    loop.enable();
    const t0 = performance.now();
    await conn.transfer(bytes, chunk);
    const seconds = (performance.now() - t0) / 1000;
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    return { rate: bytes / 1e6 / seconds, cpuMicros: cpu.user + cpu.system, stallMs: loop.max / 1e6 };
  };
  const small = subjects.map((): number[] => []);
  const large = subjects.map((): number[] => []);
  const cpuMicros = subjects.map(() => 0);
  const stalls = subjects.map(() => 0);
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < subjects.length; i++) small[i]!.push((await timed(conns[i]!, subjects[i]!.bytes.small, 200)).rate);
  }
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < subjects.length; i++) {
      const run = await timed(conns[i]!, subjects[i]!.bytes.large, 16384);
      large[i]!.push(run.rate);
      cpuMicros[i]! += run.cpuMicros;
      stalls[i] = Math.max(stalls[i]!, run.stallMs);
    }
  }
  for (const c of conns) await c.close();
  return subjects.map((subject, i) => ({
    small: median(small[i]!),
    large: median(large[i]!),
    cpuPerMb: cpuMicros[i]! / 1e6 / ((RUNS * subject.bytes.large) / 1e6),
    stallMs: stalls[i]!,
  }));
}

const subjects = [
  // As Quiver runs: path MTU discovery up to what the interface carries (loopback: 64 KiB, as
  // for TCP below; Ethernet: 1500 bytes).
  quiver(undefined, 'Quiver QUIC (PMTU discovery)'),
  // Discovery capped at Ethernet-sized and at the minimum datagrams, for comparison.
  quiver(1452, 'Quiver QUIC (capped)'),
  quiver(1200, 'Quiver QUIC (no discovery)'),
  matrixai(),
  nodeTls(),
];
const only = process.env.BENCH_ONLY;
const chosen = subjects.filter((s) => !only || s.name.includes(only));
// Handshakes and memory with one transport up at a time (nothing else allocating or freeing);
// then throughput with all of them up, taking turns.
const alone: Awaited<ReturnType<typeof measureAlone>>[] = [];
for (const s of chosen) {
  await s.setup();
  alone.push(await measureAlone(s));
  await s.teardown();
}
for (const s of chosen) await s.setup();
const turns = await measureTurns(chosen);
for (const s of chosen) await s.teardown();
const rows: Row[] = chosen.map((s, i) => ({ name: s.name, ...alone[i]!, ...turns[i]! }));

const header = ['transport', 'handshake ms (median)', 'MB/s 200 B writes', 'MB/s 16 KiB writes', 'CPU s/MB', 'KiB/idle conn', 'KiB/stream', 'max stall ms'];
const lines = rows.map((r) => [r.name, r.handshakeMs.toFixed(2), r.small.toFixed(1), r.large.toFixed(1), r.cpuPerMb.toFixed(4), r.idleKiB.toFixed(1), r.streamKiB.toFixed(2), r.stallMs.toFixed(1)]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const fmt = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log(fmt(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const l of lines) console.log(fmt(l));
const m = rows.find((r) => r.name.startsWith('@matrixai'));
const t = rows.find((r) => r.name.startsWith('node:tls'));
console.log('');
for (const q of rows.filter((r) => r.name.startsWith('Quiver'))) {
  if (!m || !t) break;
  const ratio = (a: number, b: number): string => (a / b).toFixed(1) + 'x';
  console.log(
    `${q.name}: Quiver/@matrixai ${ratio(q.small, m.small)} (200 B writes), ${ratio(q.large, m.large)} (16 KiB writes) (target >= 30x); ` +
      `node:tls/Quiver ${ratio(t.small, q.small)}, ${ratio(t.large, q.large)} (target <= 3x)`,
  );
}
process.exit(0);
