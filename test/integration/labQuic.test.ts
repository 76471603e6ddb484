/**
 * The lab's XMPP-over-QUIC scenarios (issue 11), as a plain client sees them: the
 * `_xmppq-client._udp` SRV records (only on the QUIC scenarios), the TLSA record at
 * `_<port>._udp.<target>` of quic-dane.test, the certificate the gateway presents per SNI, the UDP
 * blackhole that never answers, the accounts, and a test's own gateway built from `lab.gateway`.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import type { TlsaData } from 'dns-packet';
import { QuicEndpoint } from '../../app/quic/driver/quicEndpoint.ts';
import { QuicGateway } from '../../app/gateway/quicGateway.ts';
import { labFromEnv, labGatewayOptions } from '../support/lab.ts';
import { dnsQuery } from '../lab/dnsQuery.ts';

const lab = labFromEnv();
const WAIT_MS = 10_000;

type Srv = { priority: number; weight: number; port: number; target: string };

async function srv(name: string): Promise<Srv[]> {
  const reply = await dnsQuery(lab.resolver, name, 'SRV');
  return (reply.packet.answers ?? []).filter((a) => a.type === 'SRV').map((a) => a.data as Srv);
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

const endpoints: QuicEndpoint[] = [];
after(() => {
  for (const ep of endpoints) ep.abort();
});

/** A QUIC handshake to 127.0.0.1:`port` with this SNI: the leaf the server presented, and the connection. */
async function leafFor(port: number, serverName: string) {
  const ep = await QuicEndpoint.bind();
  endpoints.push(ep);
  const conn = ep.connect({ serverName, alpn: ['xmpp-client'], remoteAddress: { address: '127.0.0.1', port } });
  const [chain] = (await within(once(conn, 'peer-certificate'), `${serverName}: certificate`)) as [Uint8Array[]];
  conn.acceptPeer();
  await within(conn.established, `${serverName}: handshake`);
  return { leaf: new X509Certificate(chain[0]!), conn };
}

const QUIC_DOMAINS = [lab.domains.quicA, lab.domains.quicB, lab.domains.quicSolo, lab.domains.quicDane];

describe('lab: XMPP over QUIC scenarios', () => {
  it('_xmppq-client._udp SRV: the QUIC scenarios point at the gateway (udp-blocked.test at the blackhole), TCP SRV to Prosody as usual; the older scenarios have none', async () => {
    for (const domain of QUIC_DOMAINS) {
      const target = `xmpp.${domain}`;
      assert.deepEqual(await srv(`_xmppq-client._udp.${domain}`), [
        { priority: 0, weight: 5, port: lab.gateway.port, target },
      ]);
      assert.deepEqual(await srv(`_xmpp-client._tcp.${domain}`), [
        { priority: 0, weight: 5, port: lab.prosody.starttlsPort, target },
      ]);
      assert.deepEqual(await srv(`_xmpps-client._tcp.${domain}`), [
        { priority: 0, weight: 5, port: lab.prosody.tlsPort, target },
      ]);
      const q = lab.scenarios[domain]?.quic;
      assert.deepEqual(
        { endpoint: q?.endpoint, port: q?.port, srvTarget: q?.srvTarget, winner: q?.winner },
        { endpoint: 'gateway', port: lab.gateway.port, srvTarget: target, winner: 'quic' },
      );
    }
    assert.deepEqual(await srv(`_xmppq-client._udp.${lab.domains.udpBlocked}`), [
      { priority: 0, weight: 5, port: lab.udpBlackhole.port, target: `xmpp.${lab.domains.udpBlocked}` },
    ]);
    assert.equal(lab.scenarios[lab.domains.udpBlocked]?.quic?.winner, 'tcp');
    assert.equal(lab.scenarios[lab.domains.udpBlocked]?.quic?.expected, null);
    for (const scenario of Object.values(lab.scenarios)) {
      if (scenario.quic) continue;
      assert.deepEqual(await srv(`_xmppq-client._udp.${scenario.domain}`), [], scenario.domain);
    }
  });

  it('quic-dane.test: a secure TLSA 3 1 1 at _<gateway port>._udp.xmpp.quic-dane.test names the key the gateway presents there', async () => {
    const name = `_${lab.gateway.port}._udp.xmpp.${lab.domains.quicDane}`;
    const reply = await dnsQuery(lab.resolver, name, 'TLSA', { dnssecOk: true });
    assert.equal(reply.rcode, 'NOERROR');
    assert.equal(reply.packet.flag_ad, true, 'secure');
    const records = (reply.packet.answers ?? []).flatMap((a) => {
      if (a.type !== 'TLSA') return [];
      const d: TlsaData = a.data;
      return [`${d.usage} ${d.selector} ${d.matchingType} ${Buffer.from(d.certificate).toString('hex')}`];
    });
    const spki = lab.certificates['quic-dane.test']?.spkiSha256Hex;
    assert.deepEqual(records, [`3 1 1 ${spki}`]);
    assert.equal(lab.scenarios[lab.domains.quicDane]?.quic?.tlsa, 'matching');
    assert.deepEqual(lab.scenarios[lab.domains.quicDane]?.quic?.expected, {
      outcome: 'trusted',
      prooftype: 'dane-ee',
      dnssec: 'secure',
    });
    const { leaf } = await leafFor(lab.gateway.port, lab.domains.quicDane);
    assert.equal(leaf.subject, leaf.issuer, 'self-signed');
    assert.equal(leaf.verify(leaf.publicKey), true, 'self-signed');
    assert.equal(leaf.fingerprint256, new X509Certificate(lab.certificates['quic-dane.test']!.pem).fingerprint256);
  });

  it('the gateway presents per SNI the certificate the scenario names: one for quic-a and quic-b, its own for quic-solo, alpha.test otherwise', async () => {
    const fingerprint = (name: string) => new X509Certificate(lab.certificates[name]!.pem).fingerprint256;
    const ca = new X509Certificate(lab.caPem);
    for (const domain of [lab.domains.quicA, lab.domains.quicB, lab.domains.quicSolo]) {
      const expected = lab.scenarios[domain]?.quic?.certificate;
      assert.ok(expected, domain);
      const { leaf } = await leafFor(lab.gateway.port, domain);
      assert.equal(leaf.fingerprint256, fingerprint(expected), `${domain} gets ${expected}`);
      assert.ok(leaf.checkIssued(ca), `${domain}: issued by the lab CA`);
      assert.equal(leaf.checkHost(domain, { subject: 'never' }), domain);
    }
    const shared = await leafFor(lab.gateway.port, lab.domains.quicA);
    assert.equal(shared.leaf.checkHost(lab.domains.quicB, { subject: 'never' }), lab.domains.quicB);
    const solo = await leafFor(lab.gateway.port, lab.domains.quicSolo);
    assert.equal(solo.leaf.checkHost(lab.domains.quicA, { subject: 'never' }), undefined, 'names only quic-solo.test');
    for (const domain of [lab.domains.alpha, 'unknown.test'])
      assert.equal((await leafFor(lab.gateway.port, domain)).leaf.fingerprint256, fingerprint(lab.gateway.certificate));
    assert.deepEqual(lab.gateway.shared.dnsIds, [lab.domains.quicA, lab.domains.quicB]);
    assert.equal(lab.gateway.certificates[0]?.name, lab.gateway.certificate);
  });

  it('the UDP blackhole reads every datagram and answers none', async () => {
    const socket = createSocket('udp4');
    try {
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      let answered = false;
      socket.on('message', () => (answered = true));
      // A closed port would answer ICMP port unreachable, which Node reports as an 'error'.
      const errors: Error[] = [];
      socket.on('error', (error) => errors.push(error));
      for (let i = 0; i < 3; i++) socket.send(Buffer.alloc(1200, i), lab.udpBlackhole.port, '127.0.0.1');
      // Loopback answers within microseconds; a bounded wait for the answer that must not come.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(answered, false);
      assert.deepEqual(errors, []);
    } finally {
      socket.close();
    }
    const ep = await QuicEndpoint.bind();
    endpoints.push(ep);
    const conn = ep.connect({
      serverName: lab.domains.udpBlocked,
      alpn: ['xmpp-client'],
      remoteAddress: { address: '127.0.0.1', port: lab.udpBlackhole.port },
    });
    const outcome = await Promise.race([
      conn.established.then(
        () => 'established',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(() => resolve('no answer'), 1_000)),
    ]);
    assert.equal(outcome, 'no answer', 'a QUIC handshake gets no answer at all');
  });

  it('every QUIC scenario account exists on the TLS Prosody (five on quic-a.test)', () => {
    const on = (domain: string) => Object.keys(lab.users).filter((jid) => jid.endsWith(`@${domain}`));
    assert.ok(on(lab.domains.quicA).length >= 5);
    assert.ok(on(lab.domains.quicB).includes(`frank@${lab.domains.quicB}`));
    for (const domain of [...QUIC_DOMAINS, lab.domains.udpBlocked]) {
      assert.ok(on(domain).length >= 1, domain);
      assert.equal(lab.scenarios[domain]?.server, 'tls');
    }
  });

  it("a test's own gateway from lab.gateway (here with one stream per connection) reaches the lab's Prosody", async () => {
    const gateway = await QuicGateway.start({
      listen: { address: '127.0.0.1', port: 0 },
      ...labGatewayOptions(lab),
      limits: { maxStreamsPerConnection: 1 },
      log: () => undefined,
    });
    try {
      const { leaf, conn } = await leafFor(gateway.address.port, lab.domains.quicB);
      assert.equal(
        leaf.checkHost(lab.domains.quicA, { subject: 'never' }),
        lab.domains.quicA,
        'the shared certificate',
      );
      assert.equal(conn.connection.peerTransportParameters?.initialMaxStreamsBidi, 1);
      const stream = conn.openStream(true);
      assert.ok(stream);
      assert.equal(conn.openStream(true), null, 'a second stream is beyond the limit');
      let received = '';
      const features = new Promise<void>((resolve) =>
        stream.on('data', (d: Uint8Array) => {
          received += Buffer.from(d).toString('utf8');
          if (received.includes('</stream:features>')) resolve();
        }),
      );
      stream.write(
        Buffer.from(
          `<?xml version='1.0'?><stream:stream to='${lab.domains.quicB}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
        ),
      );
      await within(features, 'stream features over the own gateway');
      assert.match(received, /<mechanisms/);
      assert.doesNotMatch(received, /<starttls/);
    } finally {
      await gateway.close();
    }
  });
});
