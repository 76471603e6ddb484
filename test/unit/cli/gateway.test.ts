/**
 * `quiver gateway`: its flags and usage errors (one line, exit 2), the key file's permissions,
 * and a whole run on loopback: listening line, a client's stream through it, the records, and a
 * clean stop when asked (in-process by an AbortSignal, and as a process by SIGTERM).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { main } from '../../../app/cli/main.ts';
import { gatewayConfig, runGateway } from '../../../app/cli/gateway.ts';
import { parseCommandArgs } from '../../../app/cli/args.ts';
import { makeCertificate, toPem } from '../security/certFactory.ts';
import type { CliIo } from '../../../app/cli/cliIo.ts';
import { Backend, openStream, quicClient, within } from '../gateway/gatewayHarness.ts';

const FIXTURES = new URL('../quic/fixtures/', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'quiver-gateway-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CERT = join(dir, 'cert.pem');
const KEY = join(dir, 'key.pem');
copyFileSync(new URL('server.cert.pem', FIXTURES), CERT);
copyFileSync(new URL('server.key.pem', FIXTURES), KEY);
chmodSync(KEY, 0o600);

function recordingIo(onLine: (line: string) => void = () => undefined): {
  io: CliIo;
  stdout: string[];
  stderr: string[];
} {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    stdout: (l) => {
      stdout.push(l);
      onLine(l);
    },
    stderr: (l) => stderr.push(l),
    env: {},
  };
  return { io, stdout, stderr };
}

async function run(...argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const { io, stdout, stderr } = recordingIo();
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const REQUIRED = ['--listen', '127.0.0.1:0', '--cert', CERT, '--key', KEY, '--forward', '127.0.0.1:5222'];

describe('quiver gateway flags', () => {
  it('--help prints the usage; the overview and `help gateway` name it', async () => {
    for (const argv of [
      ['gateway', '--help'],
      ['help', 'gateway'],
      ['gateway', ...REQUIRED, '-h'],
    ]) {
      const r = await run(...argv);
      assert.equal(r.code, 0, argv.join(' '));
      assert.deepEqual(r.stderr, []);
      assert.match(
        r.stdout.join('\n'),
        /^usage: quiver gateway --listen ADDR:PORT --cert FILE --key FILE --forward HOST:PORT/,
      );
    }
    assert.match((await run('--help')).stdout.join('\n'), /\n {2}gateway {11}put an XMPP-over-QUIC front/);
  });

  it('a usage error is one line and the hint, exit 2; with --json also the error line', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'gateway needs --listen ADDR:PORT, e.g. 0.0.0.0:443'],
      [['--listen', '127.0.0.1:443'], 'gateway needs --cert FILE'],
      [
        ['--listen', '127.0.0.1:443', '--cert', CERT, '--key', KEY],
        'gateway needs --forward HOST:PORT, e.g. 127.0.0.1:5222',
      ],
      [
        ['--listen', 'localhost:443', '--cert', CERT, '--key', KEY, '--forward', '127.0.0.1:5222'],
        '--listen needs an IP address, not "localhost" (e.g. 0.0.0.0:443 or [::]:443)',
      ],
      [
        ['--listen', '127.0.0.1:70000', '--cert', CERT, '--key', KEY, '--forward', '127.0.0.1:5222'],
        '--listen must be HOST:PORT (IPv6 in brackets, e.g. [::1]:5222), not "127.0.0.1:70000"',
      ],
      [
        ['--listen', '127.0.0.1:443', '--cert', CERT, '--key', KEY, '--forward', '127.0.0.1:0'],
        '--forward must be HOST:PORT (IPv6 in brackets, e.g. [::1]:5222), not "127.0.0.1:0"',
      ],
      [[...REQUIRED, '--max-streams', '0'], '--max-streams takes a whole number from 1 to 1000, not "0"'],
      [[...REQUIRED, '--idle-timeout', '2.5'], '--idle-timeout takes a whole number from 1 to 3600, not "2.5"'],
      [
        [...REQUIRED, '--max-backend-per-address', '0'],
        '--max-backend-per-address takes a whole number from 1 to 1000000, not "0"',
      ],
      [[...REQUIRED, '--first-byte-timeout', 'x'], '--first-byte-timeout takes a whole number from 1 to 3600, not "x"'],
      [[...REQUIRED, 'extra'], 'gateway takes no arguments, only options: "extra"'],
      [
        [...REQUIRED, '--cert', CERT],
        '--cert and --key go in pairs (the n-th --key belongs to the n-th --cert), but there are 2 --cert and 1 --key',
      ],
      [
        ['--listen', '127.0.0.1:443', '--cert', KEY, '--key', KEY, '--forward', '127.0.0.1:5222'],
        `${KEY} holds no PEM certificate`,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await run('gateway', ...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.deepEqual(r.stderr, [`quiver: ${message}`, "Run 'quiver gateway --help' for usage."], argv.join(' '));
      assert.deepEqual(r.stdout, []);
    }
    const r = await run('gateway', '--json');
    assert.equal(r.code, 2);
    assert.deepEqual(
      r.stdout.map((l) => JSON.parse(l) as unknown),
      [{ type: 'error', code: 'usage', message: 'gateway needs --listen ADDR:PORT, e.g. 0.0.0.0:443' }],
    );
  });

  it('refuses a key file others may read, and a key that does not belong to the certificate', async () => {
    const open = join(dir, 'open-key.pem');
    copyFileSync(KEY, open);
    chmodSync(open, 0o644);
    let r = await run(
      'gateway',
      '--listen',
      '127.0.0.1:0',
      '--cert',
      CERT,
      '--key',
      open,
      '--forward',
      '127.0.0.1:5222',
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr[0], `quiver: the key file ${open} may be read by others (mode 0644); run chmod 600 ${open}`);

    const other = join(dir, 'other-key.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(other, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    r = await run('gateway', '--listen', '127.0.0.1:0', '--cert', CERT, '--key', other, '--forward', '127.0.0.1:5222');
    assert.equal(r.code, 2);
    assert.equal(r.stderr[0], `quiver: the key in ${other} does not belong to the first certificate in ${CERT}`);
  });

  it('takes --cert/--key in pairs, in order; each key must belong to its own certificate', async () => {
    const issued = await makeCertificate({ cn: 'shared', dnsNames: ['quic-a.test', 'quic-b.test'] });
    const cert2 = join(dir, 'shared.pem');
    const key2 = join(dir, 'shared.key');
    writeFileSync(cert2, toPem(issued.der));
    writeFileSync(key2, KeyObject.from(issued.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    const config = gatewayConfig(
      parseCommandArgs([...REQUIRED, '--cert', cert2, '--key', key2], {
        listen: { arity: 1 },
        cert: { arity: 1, repeat: true },
        key: { arity: 1, repeat: true },
        forward: { arity: 1 },
      }),
    );
    assert.equal(config.certificateChain.length, 1, 'the first pair is the default');
    assert.equal(config.moreCertificates.length, 1);
    assert.deepEqual(config.moreCertificates[0]!.certificateChain, [new Uint8Array(issued.der)]);
    // Keys swapped between the pairs: the second pair's key belongs to the first certificate.
    const r = await run(
      'gateway',
      ...['--listen', '127.0.0.1:0', '--forward', '127.0.0.1:5222'],
      ...['--cert', CERT, '--key', key2, '--cert', cert2, '--key', KEY],
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr[0], `quiver: the key in ${key2} does not belong to the first certificate in ${CERT}`);
  });

  it('--early-data turns on tickets and 0-RTT; without it the gateway issues no tickets', () => {
    const spec = {
      listen: { arity: 1 },
      cert: { arity: 1, repeat: true },
      key: { arity: 1, repeat: true },
      forward: { arity: 1 },
      'early-data': { arity: 0 },
    } as const;
    assert.equal(gatewayConfig(parseCommandArgs([...REQUIRED, '--early-data'], spec)).earlyData, true);
    assert.equal(gatewayConfig(parseCommandArgs([...REQUIRED], spec)).earlyData, false);
  });

  it('with two pairs, a client whose SNI the second certificate names gets it; others get the first', async () => {
    const issued = await makeCertificate({ cn: 'shared', dnsNames: ['quic-a.test'] });
    const cert2 = join(dir, 'run-shared.pem');
    const key2 = join(dir, 'run-shared.key');
    writeFileSync(cert2, toPem(issued.der));
    writeFileSync(key2, KeyObject.from(issued.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    const backend = await Backend.start();
    const stop = new AbortController();
    let listeningLine: (line: string) => void = () => undefined;
    const listening = new Promise<string>((resolve) => (listeningLine = resolve));
    const { io } = recordingIo((l) => listeningLine(l));
    const running = runGateway(
      [
        ...['--listen', '127.0.0.1:0', '--forward', `127.0.0.1:${backend.port}`, '--json'],
        ...['--cert', CERT, '--key', KEY, '--cert', cert2, '--key', key2],
      ],
      io,
      stop.signal,
    );
    const endpoints: Array<Awaited<ReturnType<typeof quicClient>>['ep']> = [];
    try {
      const line = JSON.parse(await within(listening, 5_000, 'listening line')) as Record<string, string>;
      listeningLine = () => undefined;
      const port = Number(/:(\d+)$/.exec(line.listen!)![1]);
      const leafFor = async (serverName: string): Promise<Uint8Array> => {
        const { ep, conn } = await quicClient(port, { serverName });
        endpoints.push(ep);
        const [chain] = (await within(once(conn, 'peer-certificate'), 5_000, serverName)) as [Uint8Array[]];
        await within(conn.established, 5_000, `${serverName}: handshake`);
        return chain[0]!;
      };
      assert.deepEqual(await leafFor('QUIC-A.test'), new Uint8Array(issued.der));
      assert.notDeepEqual(await leafFor('quic.example'), new Uint8Array(issued.der));
    } finally {
      stop.abort();
      await running;
      for (const ep of endpoints) ep.abort();
      await backend.close();
    }
  });

  it('says so, exit 1, when it cannot listen on the address', async () => {
    const backend = await Backend.start();
    const stop = new AbortController();
    const first = recordingIo();
    const listening = new Promise<string>((resolve) => {
      first.io.stdout = (l) => resolve(l);
    });
    const running = runGateway(
      ['--listen', '127.0.0.1:0', '--cert', CERT, '--key', KEY, '--forward', `127.0.0.1:${backend.port}`, '--json'],
      first.io,
      stop.signal,
    );
    try {
      const { listen } = JSON.parse(await within(listening, 5_000, 'listening line')) as { listen: string };
      const r = await run('gateway', '--listen', listen, '--cert', CERT, '--key', KEY, '--forward', '127.0.0.1:5222');
      assert.equal(r.code, 1);
      assert.match(r.stderr[0]!, /^quiver: cannot listen for QUIC on UDP 127\.0\.0\.1:\d+: EADDRINUSE; choose another/);
    } finally {
      stop.abort();
      await running;
      await backend.close();
    }
  });
});

describe('quiver gateway run', () => {
  it('listens, forwards a stream, writes one record per connection (and the open one with --verbose), and stops cleanly', async () => {
    const backend = await Backend.start();
    const stop = new AbortController();
    let listeningLine: (line: string) => void = () => undefined;
    const listening = new Promise<string>((resolve) => (listeningLine = resolve));
    const { io, stdout, stderr } = recordingIo((l) => listeningLine(l));
    const running = runGateway(
      [
        '--listen',
        '127.0.0.1:0',
        '--cert',
        CERT,
        '--key',
        KEY,
        '--forward',
        `127.0.0.1:${backend.port}`,
        '--max-streams',
        '3',
        '--json',
        '--verbose',
      ],
      io,
      stop.signal,
    );
    const client = { ep: null as Awaited<ReturnType<typeof quicClient>>['ep'] | null };
    try {
      const line = JSON.parse(await within(listening, 5_000, 'listening line')) as Record<string, string>;
      listeningLine = () => undefined;
      assert.equal(line.type, 'listening');
      assert.equal(line.forward, `127.0.0.1:${backend.port}`);
      const port = Number(/:(\d+)$/.exec(line.listen!)![1]);
      const { ep, conn } = await quicClient(port);
      client.ep = ep;
      await within(conn.established, 5_000, 'handshake');
      assert.equal(conn.connection.peerTransportParameters?.initialMaxStreamsBidi, 3);
      const s = openStream(conn);
      s.write('<stream:stream>');
      await within(s.receivedText('echo:<stream:stream>'), 5_000, 'echo');
      stop.abort();
      assert.equal(await within(running, 5_000, 'gateway stop'), 0);
      const info = await within(conn.closed, 5_000, 'client closed');
      assert.equal(info.reason, 'the gateway is shutting down');
      await within(backend.connections[0]!.closed, 5_000, 'backend connection closed');
      const records = stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        records.map((r) => r.type),
        ['listening', 'open', 'close', 'stopped'],
      );
      assert.equal(records[1]!.sni, 'quic.example');
      assert.equal(records[2]!.streams, 1);
      assert.equal(records[2]!.bytesUp, '<stream:stream>'.length);
      assert.equal(records[2]!.sni, 'quic.example');
      assert.equal(typeof records[2]!.opened, 'string');
      assert.deepEqual(stderr, []);
    } finally {
      stop.abort();
      await running;
      client.ep?.abort();
      await backend.close();
    }
  });

  it('as a process: SIGTERM closes the connections and exits 0', async () => {
    const backend = await Backend.start();
    const mainTs = fileURLToPath(new URL('../../../app/cli/main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        mainTs,
        'gateway',
        '--listen',
        '127.0.0.1:0',
        '--cert',
        CERT,
        '--key',
        KEY,
        '--forward',
        `127.0.0.1:${backend.port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: string[] = [];
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const firstLine = new Promise<string>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        lines.push(l);
        if (lines.length === 1) resolve(l);
      });
    });
    let clientEp: Awaited<ReturnType<typeof quicClient>>['ep'] | null = null;
    try {
      const first = await within(firstLine, 20_000, 'listening line');
      const port = Number(/on UDP 127\.0\.0\.1:(\d+),/.exec(first)![1]);
      const { ep, conn } = await quicClient(port);
      clientEp = ep;
      await within(conn.established, 5_000, 'handshake');
      const s = openStream(conn);
      s.write('hello');
      await within(s.receivedText('echo:hello'), 5_000, 'echo');
      child.kill('SIGTERM');
      const [code] = await within(exited, 10_000, 'exit after SIGTERM');
      assert.equal(code, 0);
      assert.equal((await within(conn.closed, 5_000, 'client closed')).reason, 'the gateway is shutting down');
      await within(backend.connections[0]!.closed, 5_000, 'backend connection closed');
      // One line per connection, at its close: no open line without --verbose.
      assert.equal(lines.filter((l) => / conn=\d+ /.test(l)).length, 1);
      assert.match(
        lines.join('\n'),
        /conn=1 close 127\.0\.0\.1:\d+ sni=quic\.example alpn=xmpp-client opened=\S+ duration=[\d.]+s streams=1 up=5 down=10 reason="gateway: application 0 \(the gateway is shutting down\)"/,
      );
      assert.equal(lines.at(-1), 'quiver gateway: stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      clientEp?.abort();
      await backend.close();
    }
  });
});
