/**
 * 0-RTT at the gateway, answered in 0.5-RTT: for a connection whose 0-RTT the gateway accepted
 * (its strike register lets each ticket's early data in once), the server connection of the 0-RTT
 * stream opens on its first byte, before the handshake completes, and the server's answer leaves
 * before the client's Finished has arrived. The client here holds its Finished back (it does not
 * accept the certificate) until the server connection exists: the old code never opened it then.
 * The same `admit()` limits hold for early streams.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { QuicGateway, type GatewayLimits } from '../../../app/gateway/quicGateway.ts';
import { GATEWAY_BACKEND_LIMIT } from '../../../app/gateway/streamBridge.ts';
import { QuicEndpoint } from '../../../app/quic/driver/quicEndpoint.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';
import { testCertificate } from '../../support/quicPair.ts';
import { Backend, ClientStream, quicClient, within } from './gatewayHarness.ts';

const BOUND = 5_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await within(Promise.resolve(c()), BOUND, 'cleanup');
});

/** A gateway with early data in front of an echoing backend, and a ticket from a first connection. */
async function setup(
  limits: Partial<GatewayLimits> = {},
): Promise<{ backend: Backend; gateway: QuicGateway; ticket: StoredTicket }> {
  const backend = await Backend.start();
  cleanups.push(() => backend.close());
  const gateway = await QuicGateway.start({
    listen: { address: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: backend.port },
    ...testCertificate(),
    earlyData: true,
    limits,
    log: () => undefined,
  });
  cleanups.push(() => gateway.close());
  const first = await quicClient(gateway.address.port);
  cleanups.push(() => first.ep.abort());
  const ticket = await within(
    new Promise<StoredTicket>((resolve) => first.conn.once('session-ticket', resolve)),
    BOUND,
    'a session ticket',
  );
  assert.ok(ticket.earlyData, 'the gateway issues tickets that allow 0-RTT');
  return { backend, gateway, ticket };
}

/** A resumed client whose certificate check (and so its Finished) waits until `accept()`. */
async function heldClient(port: number, ticket: StoredTicket) {
  const ep = await QuicEndpoint.bind();
  cleanups.push(() => ep.abort());
  const conn = ep.connect({
    serverName: 'quic.example',
    alpn: ['xmpp-client'],
    remoteAddress: { address: '127.0.0.1', port },
    ticket,
    earlyData: true,
  });
  const certificate = within(
    new Promise<void>((resolve) => conn.once('peer-certificate', () => resolve())),
    BOUND,
    "the server's certificate",
  );
  return { conn, certificate, accept: () => conn.acceptPeer() };
}

describe('QuicGateway: 0-RTT answered in 0.5-RTT', () => {
  it("opens the 0-RTT stream's server connection before the client's Finished, and the answer reaches the client", async () => {
    const { backend, gateway, ticket } = await setup();
    const c = await heldClient(gateway.address.port, ticket);
    const early = c.conn.openEarlyStream(Buffer.from('<stream:stream>'));
    assert.ok(early, 'the stream opens as early data');
    const stream = new ClientStream(early);
    await c.certificate;
    const server = await within(backend.next(), BOUND, "the server connection, before the client's Finished");
    await within(server.receivedText('<stream:stream>'), BOUND, 'the header');
    assert.equal(c.conn.connection.isHandshakeComplete, false, 'the client has not sent its Finished');
    assert.equal(c.conn.connection.earlyDataState, 'accepted');
    c.accept();
    await within(stream.receivedText('echo:<stream:stream>'), BOUND, "the server's answer");
    assert.equal(gateway.backendConnectionCount, 1);
  });

  it('every stream opened in accepted 0-RTT gets its server connection before the Finished (one per account)', async () => {
    const { backend, gateway, ticket } = await setup();
    const c = await heldClient(gateway.address.port, ticket);
    const a = c.conn.openEarlyStream(Buffer.from('<stream:stream>'));
    const b = c.conn.openEarlyStream(Buffer.from('<second/>'));
    assert.ok(a && b, 'two early streams');
    const second = new ClientStream(b);
    await c.certificate;
    const one = await within(backend.next(), BOUND, 'the first server connection');
    const two = await within(backend.next(), BOUND, 'the second server connection');
    await within(Promise.all([one.receivedText('>'), two.receivedText('>')]), BOUND, 'their bytes');
    assert.deepEqual([one.received, two.received].sort(), ['<second/>', '<stream:stream>']);
    assert.equal(c.conn.connection.isHandshakeComplete, false, 'the client has not sent its Finished');
    assert.equal(gateway.backendConnectionCount, 2);
    c.accept();
    await within(second.receivedText('echo:<second/>'), BOUND, 'the second answer');
  });

  it('early streams stay within the per-address limit: one beyond it is reset', async () => {
    const { backend, gateway, ticket } = await setup({ maxBackendPerAddress: 1 });
    const c = await heldClient(gateway.address.port, ticket);
    const a = c.conn.openEarlyStream(Buffer.from('<stream:stream>'));
    const b = c.conn.openEarlyStream(Buffer.from('<second/>'));
    assert.ok(a && b, 'two early streams');
    const first = new ClientStream(a);
    const second = new ClientStream(b);
    await c.certificate;
    await within(backend.next(), BOUND, 'the first server connection');
    c.accept();
    assert.equal(await within(second.reset, BOUND, 'the second stream reset'), GATEWAY_BACKEND_LIMIT);
    await within(first.receivedText('echo:<stream:stream>'), BOUND, 'the first answer');
    assert.equal(gateway.backendConnectionCount, 1);
  });

  it('before the handshake, an address gets at most maxEarlyBackendPerAddress early server connections; the rest wait for it', async () => {
    const { backend, gateway, ticket } = await setup({ maxEarlyBackendPerAddress: 1 });
    const c = await heldClient(gateway.address.port, ticket);
    const a = c.conn.openEarlyStream(Buffer.from('<stream:stream>'));
    const b = c.conn.openEarlyStream(Buffer.from('<second/>'));
    assert.ok(a && b, 'two early streams');
    const second = new ClientStream(b);
    await c.certificate;
    const one = await within(backend.next(), BOUND, 'the first server connection');
    await within(one.receivedText('>'), BOUND, 'its bytes');
    assert.equal(gateway.backendConnectionCount, 1, 'the second waits: its address is not validated yet');
    c.accept();
    const two = await within(backend.next(), BOUND, 'the second server connection, after the handshake');
    await within(two.receivedText('>'), BOUND, 'its bytes');
    await within(second.receivedText('echo:<second/>'), BOUND, 'the second answer');
  });
});
