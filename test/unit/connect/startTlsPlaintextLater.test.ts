/**
 * Plaintext after `<proceed/>` that arrives in a LATER TCP segment than `<proceed/>` itself: by
 * then the client has handed the socket to TLS, so the bytes fail the TLS handshake rather than
 * reach the stream machine. The person must read the real cause (RFC 6120 §5.4.2.3: nothing more
 * is exchanged in plaintext after <proceed/>), not "it may expect STARTTLS" — this IS STARTTLS.
 * The same-segment case is the stream machine's (test/unit/connect/probe.test.ts).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { reachFeatures } from '../../../app/connect/connector.ts';
import { probeCandidate } from '../../../app/connect/probe.ts';
import type { Candidate } from '../../../app/connect/candidate.ts';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.org' id='x' version='1.0'>`;
const STARTTLS_FEATURES = `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`;
const INJECTED = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;

/**
 * A STARTTLS server on 127.0.0.1 that writes `<proceed/>`, waits for the client's TLS ClientHello
 * (a handshake record: 0x16 0x03), and only then writes plaintext XML: a separate write after an
 * event, so it cannot share a segment with `<proceed/>`.
 */
async function injectingServer(t: TestContext): Promise<{ port: number; clientHellos: () => number }> {
  let clientHellos = 0;
  const server = net.createServer((socket) => {
    let plain = '';
    let proceeded = false;
    socket.on('data', (chunk: Buffer) => {
      if (proceeded) {
        if (chunk[0] === 0x16 && chunk[1] === 0x03) {
          clientHellos++;
          socket.write(INJECTED);
        }
        return;
      }
      plain += chunk.toString('utf8');
      if (plain.includes('<stream:stream')) {
        plain = plain.replace(/<\?xml[^>]*>|<stream:stream[^>]*>/g, '');
        socket.write(HEADER + STARTTLS_FEATURES);
      }
      if (plain.includes('<starttls')) {
        proceeded = true;
        socket.write(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
      }
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, clientHellos: () => clientHellos };
}

function candidate(port: number): Candidate {
  return {
    transport: 'starttls',
    host: '127.0.0.1',
    port,
    priority: 0,
    weight: 0,
    source: 'default',
    dnssec: 'insecure',
    record: null,
    ips: ['127.0.0.1'],
  };
}

const deps = {
  hosts: { resolve: async (host: string) => [host] },
  verify: async () => {
    throw new Error('the verifier must not be reached: TLS never came up');
  },
  saveRecord: () => undefined,
  timeoutMs: 5000,
};

test('plaintext in a later segment after <proceed/> is reported as such, not as "may expect STARTTLS"', async (t) => {
  const server = await injectingServer(t);
  await assert.rejects(
    reachFeatures('example.org', candidate(server.port), deps),
    (error: Error & { code?: string }) => {
      assert.doesNotMatch(error.message, /may expect STARTTLS/);
      assert.equal(error.code, 'plaintext-after-proceed');
      assert.match(
        error.message,
        /^example\.org \(or someone on the network\) sent unencrypted data after agreeing to STARTTLS/,
      );
      return true;
    },
  );
  assert.equal(server.clientHellos(), 1, 'the plaintext came after the ClientHello, in its own write');

  // What `quiver probe` prints for that candidate.
  const result = await probeCandidate('example.org', candidate(server.port), deps);
  assert.equal(result.ok, false);
  assert.match(result.error ?? '', /sent unencrypted data after agreeing to STARTTLS/);
});
