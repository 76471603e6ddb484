/**
 * One end of a QUIC connection, in its own process, for tests and benchmarks that put the ends in
 * different network namespaces. Both ends send a numbered message every INTERVAL ms on one
 * bidirectional stream and record what arrives, when (wall clock, shared by all namespaces) and
 * from which peer address, so a test can check "exactly once, in order" and measure gaps.
 *
 *   quicStreamPeer.ts server INTERVAL             listens on 0.0.0.0:0
 *   quicStreamPeer.ts client HOST PORT INTERVAL   connects, opens the stream
 *
 * Talks JSON lines. Out (stdout): {"event":"listening","port"} (server), {"event":"established"}
 * (client), {"event":"progress","received","at"} whenever messages arrived, {"event":"rebound","at"}
 * after a rebind, {"event":"report",...} (PeerReport) once
 * both directions finished. In (stdin, client only): {"cmd":"rebind"} moves the endpoint to a new
 * socket on 0.0.0.0 (QuicEndpoint.rebind), {"cmd":"mark"} only marks the moment (the socket
 * stays, and the kernel picks the new source address), {"cmd":"finish"} stops sending and ends the stream;
 * the server ends its side when the client's FIN arrives.
 */
import { createInterface } from 'node:readline';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../app/quic/driver/quicConnectionHandle.ts';
import { connectingPeer, listeningPeer } from '../support/peerEndpoint.ts';

/** What a peer reports at the end. Times are wall-clock ms (performance.timeOrigin-based). */
export interface PeerReport {
  event: 'report';
  role: 'client' | 'server';
  /** Messages sent (numbered 0..sent-1). */
  sent: number;
  /** The numbers of the messages received, in arrival order. */
  received: number[];
  /** Per peer address: when its first stream data arrived (remote address as the connection saw it). */
  firstDataFrom: Record<string, number>;
  /** When the first stream data arrived after the last rebind or mark (client), or null. */
  firstDataAfterRebind: number | null;
  /** Server: connections accepted and handshakes completed. Client: its handshakes (1). */
  connections: number;
  handshakes: number;
  /** Whether the connection closed before the report (it should not). */
  closed: string | null;
  migrations: number;
}

function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

function emit(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/** Sends numbered lines on `stream` every `interval` ms and records the peer's lines. */
class Talker {
  sent = 0;
  readonly received: number[] = [];
  readonly firstDataFrom: Record<string, number> = {};
  firstDataAfterRebind: number | null = null;
  rebound = false;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;
  private peerEnded = false;
  private ourEnded = false;
  private done = false;
  private readonly conn: QuicConnectionHandle;
  private readonly stream: QuicStreamHandle;
  private readonly onDone: () => void;

  constructor(conn: QuicConnectionHandle, stream: QuicStreamHandle, interval: number, onDone: () => void) {
    this.conn = conn;
    this.stream = stream;
    this.onDone = onDone;
    const decoder = new TextDecoder();
    stream.on('data', (d: Uint8Array) => {
      const now = wallNow();
      const from = conn.remoteAddress.address;
      this.firstDataFrom[from] ??= now;
      if (this.rebound) this.firstDataAfterRebind ??= now;
      this.partial += decoder.decode(d, { stream: true });
      const lines = this.partial.split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) this.received.push(Number(line));
      // Progress, so a test can wait for traffic instead of sleeping.
      if (lines.length > 0) emit({ event: 'progress', received: this.received.length, at: now });
    });
    stream.on('end', () => {
      this.peerEnded = true;
      this.finish();
    });
    // A connection that dies mid-test reports at once (with `closed` set) instead of hanging.
    conn.on('closed', () => {
      if (this.timer) clearInterval(this.timer);
      this.complete();
    });
    this.timer = setInterval(() => stream.write(new TextEncoder().encode(`${this.sent++}\n`)), interval);
  }

  /** Stops sending and ends our side; reports once the peer's side ended too. */
  finish(): void {
    if (!this.ourEnded) {
      this.ourEnded = true;
      if (this.timer) clearInterval(this.timer);
      this.stream.end();
    }
    if (this.peerEnded) this.complete();
  }

  private complete(): void {
    if (this.done) return;
    this.done = true;
    this.onDone();
  }

  get connection(): QuicConnectionHandle {
    return this.conn;
  }
}

const [mode, ...rest] = process.argv.slice(2);
let migrations = 0;

function report(role: 'client' | 'server', t: Talker, connections: number, handshakes: number): void {
  const closed = t.connection.closeInfo ? `${t.connection.closeInfo.codeName} ${t.connection.closeInfo.reason}` : null;
  const r: PeerReport = {
    event: 'report',
    role,
    sent: t.sent,
    received: t.received,
    firstDataFrom: t.firstDataFrom,
    firstDataAfterRebind: t.firstDataAfterRebind,
    connections,
    handshakes,
    closed,
    migrations,
  };
  emit(r);
}

if (mode === 'server' && rest.length === 1) {
  const interval = Number(rest[0]);
  let connections = 0;
  let handshakes = 0;
  const ep = await listeningPeer((c) => {
    connections++;
    void c.established.then(() => handshakes++);
    c.on('migrated', () => migrations++);
    c.on('stream', (s: QuicStreamHandle) => {
      const t: Talker = new Talker(c, s, interval, () => {
        // It keeps running (its FIN and ACKs must still leave) until the test ends it.
        report('server', t, connections, handshakes);
      });
    });
  });
  emit({ event: 'listening', port: ep.address.port });
} else if (mode === 'client' && rest.length === 3) {
  const [host, port, interval] = rest as [string, string, string];
  const { ep, conn } = await connectingPeer(host, Number(port));
  conn.on('migrated', () => migrations++);
  await conn.established;
  const t = new Talker(conn, conn.openStream(true)!, Number(interval), () => {
    report('client', t, 1, 1);
    void ep.close().then(() => process.exit(0));
  });
  emit({ event: 'established' });
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = (JSON.parse(line) as { cmd: string }).cmd;
    if (cmd === 'rebind' || cmd === 'mark') {
      if (cmd === 'rebind') await ep.rebind({ address: '0.0.0.0', port: 0 });
      t.rebound = true;
      t.firstDataAfterRebind = null;
      emit({ event: 'rebound', at: wallNow() });
    } else if (cmd === 'finish') {
      t.finish();
    }
  }
} else {
  console.error('usage: quicStreamPeer.ts server INTERVAL | client HOST PORT INTERVAL');
  process.exit(2);
}
