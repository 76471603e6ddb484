/**
 * 0-RTT at the gateway: bytes a client sends before its handshake is complete are held, and no
 * server connection is opened for them until the handshake completes (they come from an address
 * not yet validated and may be replayed, RFC 9001 §9.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { StreamBridge } from '../../../app/gateway/streamBridge.ts';
import type { QuicStreamHandle } from '../../../app/quic/driver/quicConnectionHandle.ts';

/** The part of a QUIC stream handle the bridge uses. */
class FakeStream extends EventEmitter {
  highWaterMark = 0;
  readonly resets: number[] = [];
  write(): boolean {
    return true;
  }
  end(): void {}
  reset(code: number): void {
    this.resets.push(code);
  }
  stopSending(): void {}
}

async function backend(t: { after(fn: () => void): void }) {
  const sockets: Socket[] = [];
  const received: string[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (d) => received.push(d.toString()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sockets, received };
}

test('0-RTT bytes wait for the handshake: no server connection before it completes, then all of them in order', async (t) => {
  const server = await backend(t);
  const stream = new FakeStream();
  let admitted = 0;
  let complete: () => void = () => undefined;
  const bridge = new StreamBridge(stream as unknown as QuicStreamHandle, {
    forward: { host: '127.0.0.1', port: server.port },
    maxBuffered: 1024,
    firstByteTimeoutMs: 5000,
    sendStallTimeoutMs: 5000,
    admit: () => (admitted++, { release: () => undefined }),
    handshakeDone: new Promise<void>((resolve) => (complete = resolve)),
  });
  t.after(() => bridge.destroy('test over'));
  stream.emit('data', Buffer.from('<stream:stream>'));
  stream.emit('data', Buffer.from('<more/>'));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(admitted, 0, 'no server connection for bytes from before the handshake');
  assert.equal(server.sockets.length, 0);
  complete();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(admitted, 1);
  assert.equal(server.received.join(''), '<stream:stream><more/>');
});

test('a client that sends more than the buffer allows before its handshake completes loses the stream', async (t) => {
  const server = await backend(t);
  const stream = new FakeStream();
  let admitted = 0;
  const bridge = new StreamBridge(stream as unknown as QuicStreamHandle, {
    forward: { host: '127.0.0.1', port: server.port },
    maxBuffered: 16,
    firstByteTimeoutMs: 5000,
    sendStallTimeoutMs: 5000,
    admit: () => (admitted++, { release: () => undefined }),
    handshakeDone: new Promise<void>(() => undefined),
  });
  stream.emit('data', Buffer.alloc(17));
  assert.match(await bridge.closed, /before its handshake was complete/);
  assert.equal(stream.resets.length, 1, 'the stream is reset');
  assert.equal(admitted, 0);
});
