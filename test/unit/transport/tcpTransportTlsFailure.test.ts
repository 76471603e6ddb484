/**
 * How a TLS handshake that meets plaintext is worded: on a direct TLS port the server may simply
 * not speak TLS there ("may expect STARTTLS"); after a STARTTLS `<proceed/>` the same bytes mean the
 * server, or someone on the path, sent plaintext after agreeing to TLS. Fake servers on loopback
 * answer the client's ClientHello (a handshake record, 0x16 0x03) with plaintext XML.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { TcpTransport, connectDirectTls } from '../../../app/transport/tcpTransport.ts';

const XML = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.org' id='x' version='1.0'>`;

/** Answers the ClientHello with plaintext XML; `greeting` is written first, on connect. */
async function plaintextServer(t: TestContext, greeting: string): Promise<number> {
  const server = net.createServer((socket) => {
    if (greeting) socket.write(greeting);
    socket.on('data', (chunk: Buffer) => {
      if (chunk[0] === 0x16 && chunk[1] === 0x03) socket.write(XML);
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

test('direct TLS to a plaintext port: "tls-failed", and the port may expect STARTTLS', async (t) => {
  const port = await plaintextServer(t, '');
  await assert.rejects(
    connectDirectTls(['127.0.0.1'], port, { servername: 'example.org', timeoutMs: 5000 }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'tls-failed');
      assert.match(error.message, /did not answer in TLS on this port: it may expect STARTTLS/);
      return true;
    },
  );
});

test('STARTTLS upgrade met by plaintext: "plaintext-after-proceed", worded as such', async (t) => {
  const port = await plaintextServer(t, `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
  const transport = await TcpTransport.connect(['127.0.0.1'], port, 5000);
  t.after(() => transport.destroy());
  const proceed = new Promise<void>((resolve) =>
    transport.setHandlers({ onData: () => resolve(), onClose: () => undefined }),
  );
  await proceed;
  await assert.rejects(
    transport.startTls({ servername: 'example.org', timeoutMs: 5000, hold: true }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'plaintext-after-proceed');
      assert.match(
        error.message,
        /^example\.org \(or someone on the network\) sent unencrypted data after agreeing to STARTTLS/,
      );
      assert.doesNotMatch(error.message, /may expect STARTTLS/);
      return true;
    },
  );
});
