/**
 * Connectors dial IP literals only. A name (or garbage such as "127.0.undefined.undefined" from a
 * malformed DNS answer) that reached `net.connect` would be looked up again by the system resolver,
 * behind the back of the resolver the account is configured with.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createHostResolver } from '../../../app/connect/hostResolver.ts';
import { TcpTransport } from '../../../app/transport/tcpTransport.ts';

test('the host resolver refuses a DNS answer that is not an IP address', async () => {
  const hosts = createHostResolver({ addresses: async () => ['192.0.2.1', '127.0.undefined.undefined'] });
  await assert.rejects(hosts.resolve('xmpp.example.test'), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'host-not-found');
    assert.match(error.message, /xmpp\.example\.test/);
    assert.match(error.message, /127\.0\.undefined\.undefined/);
    return true;
  });
  const good = createHostResolver({ addresses: async () => ['192.0.2.1', '2001:db8::1'] });
  assert.deepEqual(await good.resolve('xmpp.example.test'), ['192.0.2.1', '2001:db8::1']);
  assert.deepEqual(await good.resolve('::1'), ['::1']);
});

test('TcpTransport.connect dials only literals: a name never reaches the socket', async (t) => {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  let accepted = 0;
  server.on('connection', () => accepted++);
  for (const name of ['localhost', '127.0.undefined.undefined', '127.1']) {
    await assert.rejects(TcpTransport.connect([name], port, 2_000), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'no-address', name);
      assert.match(error.message, /not an IP address/, name);
      return true;
    });
  }
  assert.equal(accepted, 0);
  const transport = await TcpTransport.connect(['127.0.0.1'], port, 2_000);
  transport.destroy();
});
