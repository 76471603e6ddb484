import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { MAX_FRAME_BYTES, type HostFrame } from '../../../app/contract/index.ts';
import { startBrowserHost, type BrowserHost } from '../../../app/host/browserHost.ts';
import { createFakeCore, type FakeCore } from '../../e2e/ui/fakeCore.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with the path sent exactly as written (fetch would normalise `..` away). */
function get(port: number, path: string, hostHeader = `127.0.0.1:${port}`): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: hostHeader } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

type Opened = { ws: WebSocket; status?: undefined } | { ws?: undefined; status: number };

/** Opens a socket; resolves with it, or with the HTTP status the upgrade was refused with. */
function open(url: string, origin: string | undefined): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

/** Frames arrive in order; each call takes the next one. */
function frames(ws: WebSocket): () => Promise<HostFrame> {
  const queue: HostFrame[] = [];
  const waiting: Array<(frame: HostFrame) => void> = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as HostFrame;
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  return () => {
    const frame = queue.shift();
    return frame ? Promise.resolve(frame) : new Promise((resolve) => waiting.push(resolve));
  };
}

describe('startBrowserHost', () => {
  let dir: string;
  let staticDir: string;
  let core: FakeCore;
  let host: BrowserHost;
  let origin: string;
  let wsUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quiver-host-'));
    staticDir = join(dir, 'renderer');
    await mkdir(join(staticDir, 'assets'), { recursive: true });
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Quiver</title>');
    await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'do not serve');
    await symlink(join(dir, 'secret.txt'), join(staticDir, 'escape.txt'));
    core = createFakeCore();
    host = await startBrowserHost({ core, staticDir, port: 0 });
    origin = `http://127.0.0.1:${host.port}`;
    wsUrl = `ws://127.0.0.1:${host.port}/ws?token=${host.token}`;
  });

  after(async () => {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the URL carries the token in the fragment, never in the request', () => {
    assert.equal(host.url, `${origin}/#token=${host.token}`);
    assert.ok(host.token.length >= 40);
  });

  test('serves index.html for / with the CSP and the other security headers', async () => {
    const res = await get(host.port, '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.body, '<!doctype html><title>Quiver</title>');
    assert.equal(
      res.headers['content-security-policy'],
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
        `connect-src 'self' ws://127.0.0.1:${host.port}; img-src 'self' data:; object-src 'none'; ` +
        "base-uri 'none'; frame-ancestors 'none'",
    );
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
  });

  test('serves assets with their content type', async () => {
    const res = await get(host.port, '/assets/app.js?v=1');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.body, 'console.log(1)');
  });

  test('refuses path traversal, encoded or not, and symlinks out of the directory', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/escape.txt',
      '/%00',
    ]) {
      const res = await get(host.port, path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /do not serve/, path);
    }
  });

  test('refuses another Host name (DNS rebinding)', async () => {
    const res = await get(host.port, '/', `evil.example:${host.port}`);
    assert.equal(res.status, 421);
  });

  test('closes a socket without the token or with a wrong one with 4401, before anything reaches the core', async () => {
    for (const url of [
      `ws://127.0.0.1:${host.port}/ws`,
      `ws://127.0.0.1:${host.port}/ws?token=x${host.token}`,
      `ws://127.0.0.1:${host.port}/ws?token=`,
    ]) {
      const { ws } = await open(url, origin);
      assert.ok(ws, url);
      const events: unknown[] = [];
      ws.on('message', (data) => events.push(String(data)));
      ws.send(JSON.stringify({ kind: 'invoke', seq: 1, name: 'account.list', args: {} }));
      core.emit({ name: 'account.removed', payload: { accountId: 'a1' } });
      const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
      assert.equal(code, 4401, url);
      assert.equal(String(reason), 'unauthorized');
      assert.deepEqual(events, [], 'a socket with a wrong token hears no event');
    }
    assert.equal(core.calls.length, 0);
  });

  test('a page that vanishes while events are being sent is not logged as a failure', async () => {
    // A CI run of the draft test (a reload right after typing) logged 'send failed: write EPIPE'.
    const logged: string[] = [];
    const other = await startBrowserHost({ core, staticDir, log: (message) => logged.push(message) });
    const { ws } = await open(`ws://127.0.0.1:${other.port}/ws?token=${other.token}`, `http://127.0.0.1:${other.port}`);
    assert.ok(ws);
    // The page's process dies: its TCP connection is reset without a WebSocket close.
    (ws as unknown as { _socket: { resetAndDestroy(): void } })._socket.resetAndDestroy();
    for (let i = 0; i < 200; i++) core.emit({ name: 'account.removed', payload: { accountId: `gone-${i}` } });
    // A round trip on a new page: by then every write to the vanished one has come back.
    const next = await open(`ws://127.0.0.1:${other.port}/ws?token=${other.token}`, `http://127.0.0.1:${other.port}`);
    assert.ok(next.ws);
    const read = frames(next.ws);
    next.ws.send(JSON.stringify({ kind: 'invoke', seq: 1, name: 'account.list', args: {} }));
    while ((await read()).kind !== 'result');
    next.ws.close();
    await other.close();
    assert.deepEqual(logged, []);
  });

  test('closing the host tells every page it stopped (4001), not that the network failed', async () => {
    const other = await startBrowserHost({ core, staticDir });
    const { ws } = await open(`ws://127.0.0.1:${other.port}/ws?token=${other.token}`, `http://127.0.0.1:${other.port}`);
    assert.ok(ws);
    const closed = once(ws, 'close');
    await other.close();
    const [code, reason] = (await closed) as [number, Buffer];
    assert.equal(code, 4001);
    assert.equal(String(reason), 'stopped');
  });

  test('refuses a socket from a foreign or missing Origin even with the token', async () => {
    assert.deepEqual(await open(wsUrl, 'http://evil.example'), { status: 403 });
    assert.deepEqual(await open(wsUrl, 'http://localhost:' + host.port), { status: 403 });
    assert.deepEqual(await open(wsUrl, undefined), { status: 403 });
  });

  test('an upgrade with an unparsable target is refused and the host keeps serving', async () => {
    const socket = connect(host.port, '127.0.0.1');
    socket.write(
      `GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nOrigin: ${origin}\r\nConnection: Upgrade\r\n` +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(socket, 'close');
    assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 400 /);
    assert.equal((await get(host.port, '/')).status, 200);
  });

  test('invoke round trip: results answer with the same seq', async () => {
    const { ws } = await open(wsUrl, origin);
    assert.ok(ws);
    const next = frames(ws);
    ws.send(
      JSON.stringify({
        kind: 'invoke',
        seq: 7,
        name: 'account.add',
        args: { jid: 'alice@example.org', password: 'pw' },
      }),
    );
    const frame = await next();
    assert.equal(frame.kind, 'result');
    assert.equal(frame.kind === 'result' && frame.seq, 7);
    assert.deepEqual(
      frame.kind === 'result' && frame.result.ok && (frame.result.value as { jid: string }).jid,
      'alice@example.org',
    );
    ws.send(
      JSON.stringify({
        kind: 'invoke',
        seq: 8,
        name: 'account.setEnabled',
        args: { accountId: 'nope', enabled: true },
      }),
    );
    assert.deepEqual(await next(), {
      kind: 'result',
      seq: 8,
      result: { ok: false, error: { code: 'not-found', message: 'No account with that id; reload the account list.' } },
    });
    ws.close();
    await once(ws, 'close');
  });

  test('invalid arguments and unknown commands are refused before any handler runs', async () => {
    const { ws } = await open(wsUrl, origin);
    assert.ok(ws);
    const next = frames(ws);
    const before = core.calls.length;
    ws.send(
      JSON.stringify({ kind: 'invoke', seq: 1, name: 'account.add', args: { jid: 'not a jid', password: 'pw' } }),
    );
    const invalid = await next();
    assert.equal(invalid.kind === 'result' && !invalid.result.ok && invalid.result.error.code, 'invalid-argument');
    ws.send(JSON.stringify({ kind: 'invoke', seq: 2, name: 'fs.readFile', args: {} }));
    const unknown = await next();
    assert.equal(unknown.kind === 'result' && !unknown.result.ok && unknown.result.error.code, 'unknown-command');
    assert.equal(core.calls.length, before);
    ws.close();
    await once(ws, 'close');
  });

  test('core events are pushed to every authenticated socket', async () => {
    const a = (await open(wsUrl, origin)).ws;
    const b = (await open(wsUrl, origin)).ws;
    assert.ok(a && b);
    const nextA = frames(a);
    const nextB = frames(b);
    core.emit({ name: 'account.removed', payload: { accountId: 'a1' } });
    const expected = { kind: 'event', event: { name: 'account.removed', payload: { accountId: 'a1' } } };
    assert.deepEqual(await nextA(), expected);
    assert.deepEqual(await nextB(), expected);
    a.close();
    b.close();
    await Promise.all([once(a, 'close'), once(b, 'close')]);
  });

  test('a malformed frame closes that socket with 1008', async () => {
    for (const bad of ['not json', '{"kind":"invoke","seq":"1","name":"account.list"}', '[]', Buffer.from([1, 2, 3])]) {
      const { ws } = await open(wsUrl, origin);
      assert.ok(ws);
      ws.send(bad);
      const [code] = await once(ws, 'close');
      assert.equal(code, 1008, String(bad));
    }
  });

  test('a frame larger than MAX_FRAME_BYTES closes the socket', async () => {
    const { ws } = await open(wsUrl, origin);
    assert.ok(ws);
    ws.send('x'.repeat(MAX_FRAME_BYTES + 1));
    const [code] = await once(ws, 'close');
    assert.equal(code, 1009);
  });

  test('a host started with a given token on a given port accepts that token (tests restart hosts so)', async () => {
    const first = await startBrowserHost({ core, staticDir });
    const { port, token } = first;
    await first.close();
    const second = await startBrowserHost({ core, staticDir, port, token });
    try {
      assert.equal(second.url, `http://127.0.0.1:${port}/#token=${token}`);
      const { ws } = await open(`ws://127.0.0.1:${port}/ws?token=${token}`, `http://127.0.0.1:${port}`);
      assert.ok(ws);
      ws.close();
      await once(ws, 'close');
    } finally {
      await second.close();
    }
    await assert.rejects(startBrowserHost({ core, staticDir, token: 'short' }), TypeError);
    assert.equal(core.listenerCount(), 1, 'a refused token subscribes nothing');
  });

  test('close() unsubscribes from the core and is idempotent', async () => {
    const other = await startBrowserHost({ core, staticDir });
    assert.equal(core.listenerCount(), 2);
    await Promise.all([other.close(), other.close()]);
    assert.equal(core.listenerCount(), 1);
  });
});
