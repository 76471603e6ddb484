/**
 * 0-RTT at the gateway, answered in 0.5-RTT: for a connection whose 0-RTT the gateway accepted
 * (its strike register lets each ticket's early data in once), the server connection of the 0-RTT
 * stream opens on its first byte, before the handshake completes, and the server's answer leaves
 * before the client's Finished has arrived. The client here holds its Finished back (it does not
 * accept the certificate) until the server connection exists: the old code never opened it then.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { QuicGateway } from '../../../app/gateway/quicGateway.ts';
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
async function setup(): Promise<{ backend: Backend; gateway: QuicGateway; ticket: StoredTicket }> {
  const backend = await Backend.start();
  cleanups.push(() => backend.close());
  const gateway = await QuicGateway.start({
    listen: { address: '127.0.0.1', port: 0 },
    forward: { host: '127.0.0.1', port: backend.port },
    ...testCertificate(),
    earlyData: true,
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

  it('a second stream opened in 0-RTT waits for the handshake (one early server connection per accepted ticket)', async () => {
    const { backend, gateway, ticket } = await setup();
    const c = await heldClient(gateway.address.port, ticket);
    const a = c.conn.openEarlyStream(Buffer.from('<stream:stream>'));
    const b = c.conn.openEarlyStream(Buffer.from('<second/>'));
    assert.ok(a && b, 'two early streams');
    const second = new ClientStream(b);
    await c.certificate;
    const first = await within(backend.next(), BOUND, 'the first server connection');
    await within(first.receivedText('<stream:stream>'), BOUND, 'the header');
    assert.equal(gateway.backendConnectionCount, 1, 'the second stream has no server connection yet');
    c.accept();
    const other = await within(backend.next(), BOUND, 'the second server connection, after the handshake');
    await within(other.receivedText('<second/>'), BOUND, 'the second stream');
    await within(second.receivedText('echo:<second/>'), BOUND, 'its answer');
  });
});
