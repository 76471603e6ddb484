/**
 * Interop with ngtcp2's HTTP/3 examples from Debian (`gtlsserver` / `gtlsclient`, packages
 * ngtcp2-server / ngtcp2-client), on loopback. We speak just enough HTTP/3 (RFC 9114) to be a
 * plausible peer: a control stream (unidirectional, type 0x00) with an empty SETTINGS frame, and
 * a response of HEADERS (QPACK static ":status 200") plus one DATA frame.
 *
 * Every child process is bounded (`--timeout`, a kill in `finally`) and its log is checked.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle, QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';
import { pathMtuSettled } from '../../support/quicHandles.ts';
import { testCertificate } from '../../support/quicPair.ts';

const SERVER_BIN = '/usr/sbin/gtlsserver';
const CLIENT_BIN = '/usr/bin/gtlsclient';
const FIXTURES = fileURLToPath(new URL('../../unit/quic/fixtures/', import.meta.url));
const H3_NO_ERROR = 0x100;
const available = existsSync(SERVER_BIN) && existsSync(CLIENT_BIN);
const skip = available ? false : 'ngtcp2-server / ngtcp2-client are not installed';
const work = mkdtempSync(join(tmpdir(), 'quiver-ngtcp2-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Child {
  proc: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function run(bin: string, args: string[]): Child {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, log: () => out, exited };
}

function stop(c: Child): Promise<number | null> {
  if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
  return c.exited;
}

/** A free UDP port on loopback (gtlsserver needs a number up front). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves once `child`'s output matches `re` (the server prints its banner when ready). */
async function waitForLog(child: Child, re: RegExp): Promise<void> {
  if (re.test(child.log())) return;
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (re.test(child.log())) {
        child.proc.stdout!.off('data', onData);
        child.proc.stderr!.off('data', onData);
        resolve();
      }
    };
    child.proc.stdout!.on('data', onData);
    child.proc.stderr!.on('data', onData);
    void child.exited.then(() => reject(new Error(`child exited before printing ${re}: ${child.log().slice(-500)}`)));
  });
}

/** Sends a UDP probe until the server answers something (it is listening), bounded. */
async function untilListening(port: number): Promise<void> {
  const ep = await QuicEndpoint.bind();
  try {
    // A throwaway handshake is the cheapest proof that the server socket is up.
    for (let i = 0; i < 50; i++) {
      const conn = ep.connect({ serverName: 'localhost', alpn: ['h3'], remoteAddress: { address: '127.0.0.1', port } });
      conn.on('peer-certificate', () => conn.acceptPeer());
      const ok = await Promise.race([
        conn.established.then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
      ]);
      conn.close(H3_NO_ERROR, 'probe');
      if (ok) return;
    }
    throw new Error('gtlsserver did not come up');
  } finally {
    await ep.close();
  }
}

function firstData(s: QuicStreamHandle): Promise<Uint8Array> {
  return new Promise((resolve) => s.once('data', resolve));
}

describe('interop: Quiver client -> ngtcp2 server (gtlsserver, h3)', { skip, timeout: 60_000 }, () => {
  for (const retry of [false, true]) {
    it(`handshakes with ALPN h3${retry ? ' after a Retry (-V)' : ''}, receives the control stream and closes cleanly`, async () => {
      const port = await freePort();
      const args = [
        '--timeout=10s',
        '--no-quic-dump',
        '--no-http-dump',
        ...(retry ? ['-V'] : []),
        '127.0.0.1',
        String(port),
        join(FIXTURES, 'server.key.pem'),
        join(FIXTURES, 'server.cert.pem'),
      ];
      const server = run(SERVER_BIN, args);
      const ep = await QuicEndpoint.bind();
      try {
        await untilListening(port);
        const conn = ep.connect({
          serverName: 'localhost',
          alpn: ['h3'],
          remoteAddress: { address: '127.0.0.1', port },
        });
        conn.on('peer-certificate', () => conn.acceptPeer());
        const control = new Promise<{ id: number; first: Uint8Array }>((resolve) => {
          conn.on('stream', (s: QuicStreamHandle) => {
            void firstData(s).then((d) => {
              if (d[0] === 0x00) resolve({ id: s.id, first: d });
            });
          });
        });
        const { alpn } = await conn.established;
        assert.equal(alpn, 'h3');
        const ctl = await control;
        // Path MTU discovery: ngtcp2 acknowledges probes up to the largest size it accepts
        // (the idle connection's window grows with each step).
        const { stats, peerTransportParameters } = conn.connection;
        assert.equal(await pathMtuSettled(conn), Math.min(peerTransportParameters!.maxUdpPayloadSize, 65507));
        assert.equal(stats.mtuProbesLost, 0);
        // RFC 9000 §2.1: 0x3 = server-initiated unidirectional; RFC 9114 §6.2.1: type 0x00 = control.
        assert.equal(ctl.id & 0x03, 0x03);
        assert.equal(ctl.first[1], 0x04, 'the control stream starts with SETTINGS');
        conn.close(H3_NO_ERROR, 'done');
        await conn.closed;
        await ep.close();
        await waitForLog(server, /CONNECTION_CLOSE\(0x1d\) error_code=\S*\(0x100\)/);
        if (retry) assert.match(server.log(), /Sending Retry packet/);
      } finally {
        await stop(server);
        await ep.close();
      }
    });
  }
});

/**
 * A GET for / as one HTTP/3 HEADERS frame (RFC 9114 §7.2.2) with QPACK static references (RFC 9204
 * Appendix A): :method GET (17), :scheme https (23), :path / (1), :authority localhost (name 0).
 */
function h3Get(): Uint8Array {
  const authority = new TextEncoder().encode('localhost');
  const fields = Uint8Array.of(0x00, 0x00, 0xd1, 0xd7, 0xc1, 0x50, authority.length, ...authority);
  return Uint8Array.of(0x01, fields.length, ...fields);
}

describe('interop: Quiver client 0-RTT -> ngtcp2 server (gtlsserver)', { skip, timeout: 60_000 }, () => {
  it('resumes with a ticket that allows early data, sends the request in 0-RTT, and the server accepts it', async () => {
    const port = await freePort();
    const args = ['--timeout=10s', '--no-http-dump', '127.0.0.1', String(port)];
    const server = run(SERVER_BIN, [...args, join(FIXTURES, 'server.key.pem'), join(FIXTURES, 'server.cert.pem')]);
    const ep = await QuicEndpoint.bind();
    try {
      await untilListening(port);
      const remoteAddress = { address: '127.0.0.1', port };
      const first = ep.connect({ serverName: 'localhost', alpn: ['h3'], remoteAddress });
      first.on('peer-certificate', () => first.acceptPeer());
      const ticket = await new Promise<StoredTicket>((resolve) => first.once('session-ticket', resolve));
      first.close(H3_NO_ERROR, 'done');
      await first.closed;
      assert.ok(ticket.earlyData, 'gtlsserver issues tickets that allow 0-RTT');

      const conn = ep.connect({ serverName: 'localhost', alpn: ['h3'], remoteAddress, ticket, earlyData: true });
      conn.on('peer-certificate', () => conn.acceptPeer());
      const answered = new Promise<boolean>((resolve) => conn.once('early-data', resolve));
      const request = conn.openEarlyStream(h3Get());
      assert.ok(request, 'the stream opens as early data');
      request.end();
      const response = firstData(request);
      assert.equal(await answered, true, 'the server accepted 0-RTT');
      await conn.established;
      const headers = await response;
      assert.equal(headers[0], 0x01, 'the response starts with a HEADERS frame');
      assert.equal(conn.connection.tlsFacts?.resumed, true);
      conn.close(H3_NO_ERROR, 'done');
      await conn.closed;
      // ngtcp2 logs every frame it processes with its packet type: the request came in 0-RTT.
      assert.match(server.log(), /frm rx \d+ 0RTT STREAM\(0x0a\) id=0x0 fin=0 offset=0/);
    } finally {
      await stop(server);
      await ep.close();
    }
  });
});

/** Our HTTP/3-ish server: control stream, and a `body`-byte response to every request on a bidi stream. */
async function h3Server(
  body: number,
  earlyData = false,
): Promise<{ ep: QuicEndpoint; conns: QuicConnectionHandle[]; events: string[]; controlFromClient: Promise<number> }> {
  const ep = await QuicEndpoint.bind();
  const conns: QuicConnectionHandle[] = [];
  const events: string[] = [];
  let gotControl!: (id: number) => void;
  const controlFromClient = new Promise<number>((r) => (gotControl = r));
  ep.listen({
    alpn: ['h3'],
    ...testCertificate(),
    ...(earlyData ? { ticketKey: new Uint8Array(32).fill(5), earlyData: true } : {}),
    onConnection: (c) => {
      conns.push(c);
      c.on('early-data', (accepted: boolean) => events.push(`early-data ${accepted}`));
      c.on('migrated', () => events.push('migrated'));
      c.on('path-validated', () => events.push('path-validated'));
      void c.established.then(() => c.openStream(false)!.write(Uint8Array.of(0x00, 0x04, 0x00)));
      c.on('stream', (s: QuicStreamHandle) => {
        if (!s.bidirectional) {
          void firstData(s).then((d) => d[0] === 0x00 && gotControl(s.id));
          return;
        }
        s.on('data', () => undefined);
        s.on('end', () => {
          // HEADERS: QPACK prefix 0x0000, indexed static entry 25 (":status 200").
          s.write(Uint8Array.of(0x01, 0x03, 0x00, 0x00, 0xd9));
          s.write(
            Uint8Array.of(0x00, 0x80 | ((body >>> 24) & 0x3f), (body >>> 16) & 0xff, (body >>> 8) & 0xff, body & 0xff),
          );
          const chunk = new Uint8Array(65536).fill(0x61);
          let sent = 0;
          const pump = (): void => {
            while (sent < body) {
              const n = Math.min(chunk.length, body - sent);
              sent += n;
              if (!s.write(chunk.subarray(0, n), sent >= body)) {
                s.once('drain', pump);
                return;
              }
            }
          };
          pump();
        });
      });
    },
  });
  return { ep, conns, events, controlFromClient };
}

describe('interop: ngtcp2 client (gtlsclient, h3) -> Quiver server', { skip, timeout: 90_000 }, () => {
  const BODY = 8 << 20;
  // Scenarios driven by a client timer (started at HANDSHAKE_DONE) upload while it fires: the
  // client must still have data to send. A client that moved with nothing left to send never
  // tells the server its new address (after --nat-rebinding it even drops what arrives on the
  // old path) and, once the transfer is over, a key update shows in no packet. With 64 KiB
  // datagrams on loopback the 8 MiB response alone is over within the 30 ms; 16 MiB of upload
  // leaves at least half a second.
  const upload = join(work, 'upload.bin');
  writeFileSync(upload, new Uint8Array(16 << 20));

  const scenarios: { name: string; args: string[]; check: (c: QuicConnectionHandle, events: string[]) => void }[] = [
    { name: 'a request and an 8 MiB response', args: [], check: () => undefined },
    {
      name: 'active migration by the client (--change-local-addr)',
      args: ['-d', upload, '--change-local-addr=30ms'],
      check: (_c, events) => {
        assert.ok(events.includes('migrated'));
        assert.ok(events.includes('path-validated'));
      },
    },
    {
      name: 'NAT rebinding during an upload (--nat-rebinding)',
      args: ['-d', upload, '--nat-rebinding', '--change-local-addr=50ms'],
      check: (_c, events) => {
        assert.ok(events.includes('migrated'));
        assert.ok(events.includes('path-validated'));
      },
    },
    {
      name: 'a key update initiated by the client (--key-update)',
      args: ['-d', upload, '--key-update=30ms'],
      check: (c) => assert.ok(c.connection.stats.keyUpdates >= 1),
    },
  ];

  for (const sc of scenarios) {
    it(`handshake h3, control stream both ways, ${sc.name}, orderly close`, async () => {
      const { ep, conns, events, controlFromClient } = await h3Server(BODY);
      const client = run(CLIENT_BIN, [
        '--timeout=10s',
        '--no-quic-dump',
        '--no-http-dump',
        '--exit-on-all-streams-close',
        ...sc.args,
        '127.0.0.1',
        String(ep.address.port),
        `https://localhost:${ep.address.port}/`,
      ]);
      try {
        const code = await client.exited;
        assert.equal(code, 0, client.log().slice(-2000));
        assert.equal(conns.length, 1);
        const c = conns[0]!;
        assert.equal((await c.established).alpn, 'h3');
        assert.equal((await controlFromClient) & 0x03, 0x02, 'client-initiated unidirectional control stream');
        // The client saw the whole response body (HEADERS and the DATA frame header are 5 bytes each).
        // Only a received frame counts: the client's own request also ends with fin=1 on stream 0.
        const fin = /frm rx \d+ 1RTT STREAM\(0x[0-9a-f]+\) id=0x0 fin=1 offset=(\d+) len=(\d+)/.exec(client.log());
        assert.ok(fin, `the client did not receive the end of the response: ${client.log().slice(-1000)}`);
        assert.equal(Number(fin[1]) + Number(fin[2]), 10 + BODY);
        sc.check(c, events);
        // Orderly close: we close with H3_NO_ERROR; the client (already done) exits cleanly above.
        c.close(H3_NO_ERROR, 'bye');
        const info = await c.closed;
        assert.ok(info.local || info.app);
      } finally {
        await stop(client);
        await ep.close();
      }
    });
  }
});

describe('interop: ngtcp2 client (gtlsclient) 0-RTT -> Quiver server', { skip, timeout: 60_000 }, () => {
  it('a resumed client sends its request in 0-RTT; the server accepts it once and answers', async () => {
    const { ep, conns, events } = await h3Server(1000, true);
    const session = join(work, 'session.pem');
    const tp = join(work, 'tp.txt');
    const args = [
      '--timeout=10s',
      '--no-http-dump',
      '--exit-on-all-streams-close',
      `--session-file=${session}`,
      `--tp-file=${tp}`,
      '127.0.0.1',
      String(ep.address.port),
      `https://localhost:${ep.address.port}/`,
    ];
    try {
      const first = run(CLIENT_BIN, args);
      assert.equal(await first.exited, 0, first.log().slice(-2000));
      assert.ok(existsSync(session) && existsSync(tp), 'the client stored the session and transport parameters');
      const second = run(CLIENT_BIN, args);
      assert.equal(await second.exited, 0, second.log().slice(-2000));
      assert.match(second.log(), /frm tx \d+ 0RTT STREAM\(0x[0-9a-f]+\) id=0x0 /, 'the request went in 0-RTT');
      assert.equal(conns.length, 2);
      assert.deepEqual(
        events.filter((e) => e.startsWith('early-data')),
        ['early-data true'],
        'the second connection offered 0-RTT and we accepted it',
      );
      assert.equal(conns[1]!.connection.tlsFacts?.resumed, true);
      const fin = /frm rx \d+ 1RTT STREAM\(0x[0-9a-f]+\) id=0x0 fin=1 offset=(\d+) len=(\d+)/.exec(second.log());
      assert.ok(fin, 'the client received the whole response');
      assert.equal(Number(fin[1]) + Number(fin[2]), 10 + 1000);
    } finally {
      await ep.close();
    }
  });
});
