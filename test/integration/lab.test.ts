// The lab itself: its DNS answers, its Prosody instances offer what the scenarios say, and the
// accounts and rosters it creates work. Run: node scripts/withLab.ts node --test test/integration/lab.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:net';
import { once } from 'node:events';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Answer } from 'dns-packet';
import { labFromEnv } from '../support/lab.ts';
import { dnsQuery } from '../lab/dnsQuery.ts';
import { streamFeatures, tlsStreamFeatures } from '../lab/streamProbe.ts';

const lab = labFromEnv();

type Srv = { priority: number; weight: number; port: number; target: string };

async function srv(name: string): Promise<{ rcode: string; records: Srv[] }> {
  const reply = await dnsQuery(lab.resolver, name, 'SRV');
  const records = (reply.packet.answers ?? []).filter((a) => a.type === 'SRV').map((a) => a.data as Srv);
  return { rcode: reply.rcode, records };
}

function addresses(answers: readonly Answer[] | undefined): string[] {
  return (answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));
}

test('unbound resolves the SRV records of every scenario', async () => {
  for (const domain of [lab.domains.alpha, lab.domains.beta, lab.domains.wrongname]) {
    assert.deepEqual((await srv(`_xmpp-client._tcp.${domain}`)).records, [
      { priority: 0, weight: 5, port: lab.prosody.starttlsPort, target: `xmpp.${domain}` },
    ]);
    assert.deepEqual((await srv(`_xmpps-client._tcp.${domain}`)).records, [
      { priority: 0, weight: 5, port: lab.prosody.tlsPort, target: `xmpp.${domain}` },
    ]);
    const a = await dnsQuery(lab.resolver, `xmpp.${domain}`, 'A');
    assert.deepEqual(addresses(a.packet.answers), ['127.0.0.1']);
  }
  assert.deepEqual((await srv(`_xmpp-client._tcp.${lab.domains.plain}`)).records, [
    { priority: 0, weight: 5, port: lab.prosody.plainPort, target: `xmpp.${lab.domains.plain}` },
  ]);
  assert.deepEqual((await srv(`_xmpps-client._tcp.${lab.domains.plain}`)).records, []);
});

test('nosrv.test has an address but no SRV; noservice.test says "decidedly not available"', async () => {
  const none = await srv(`_xmpp-client._tcp.${lab.domains.nosrv}`);
  assert.equal(none.rcode, 'NXDOMAIN');
  assert.deepEqual(none.records, []);
  const a = await dnsQuery(lab.resolver, lab.domains.nosrv, 'A');
  assert.deepEqual(addresses(a.packet.answers), ['127.0.0.1']);
  assert.deepEqual((await srv(`_xmpp-client._tcp.${lab.domains.noservice}`)).records, [
    { priority: 0, weight: 0, port: 0, target: '.' },
  ]);
});

test('the STARTTLS port offers <starttls/> and requires it, for each TLS host', async () => {
  for (const domain of [lab.domains.alpha, lab.domains.beta, lab.domains.wrongname]) {
    const features = await streamFeatures(lab.prosody.starttlsPort, domain);
    assert.match(features, /<starttls xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]>\s*<required\s*\/>/, domain);
    // RFC 6120 §6.4.1: no SASL before TLS when TLS is required.
    assert.doesNotMatch(features, /<mechanisms/, domain);
  }
});

test('STARTTLS on the c2s port upgrades to TLS with the certificate of the stream\'s host', async () => {
  for (const [domain, certName] of [[lab.domains.beta, 'beta.test'], [lab.domains.wrongname, 'other.test']] as const) {
    const plain = connect({ host: '127.0.0.1', port: lab.prosody.starttlsPort });
    try {
      await once(plain, 'connect');
      plain.setEncoding('utf8');
      let text = '';
      let requested = false;
      const proceeded = new Promise<void>((resolve, reject) => {
        plain.on('data', (chunk: string) => {
          text += chunk;
          if (!requested && text.includes('</stream:features>')) {
            requested = true;
            plain.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
          }
          // RFC 6120 §5.4.2.3: the server replies <proceed/> and both sides begin the TLS handshake.
          if (/<proceed[^>]*\/>/.test(text)) {
            plain.removeAllListeners('data');
            resolve();
          }
          if (/<failure/.test(text)) reject(new Error(`STARTTLS failed: ${text}`));
        });
        plain.once('error', reject);
      });
      plain.write(
        `<stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
      );
      await proceeded;
      const secure = tlsConnect({ socket: plain, servername: domain, ca: lab.caPem, checkServerIdentity: () => undefined });
      await once(secure, 'secureConnect');
      assert.equal(secure.authorized, true, domain);
      assert.equal(secure.getPeerX509Certificate()?.checkHost(certName), certName, domain);
      secure.destroy();
    } finally {
      plain.destroy();
    }
  }
});

test('the plain instance offers no STARTTLS', async () => {
  const features = await streamFeatures(lab.prosody.plainPort, lab.domains.plain);
  assert.match(features, /<stream:features/);
  assert.doesNotMatch(features, /starttls/);
});

async function directTls(servername: string): Promise<{ socket: TLSSocket; features: string }> {
  return tlsStreamFeatures(lab.prosody.tlsPort, servername, { ca: lab.caPem, ALPNProtocols: ['xmpp-client'] });
}

test('direct TLS presents the alpha.test certificate for SNI alpha.test, chained to the lab CA', async () => {
  const { socket, features } = await directTls(lab.domains.alpha);
  try {
    assert.equal(socket.authorized, true); // chain to lab.caPem and DNS-ID alpha.test both checked
    assert.equal(socket.alpnProtocol, 'xmpp-client');
    const cert = socket.getPeerX509Certificate();
    assert.ok(cert);
    assert.ok(cert.checkIssued(new X509Certificate(lab.caPem)));
    assert.equal(cert.checkHost('alpha.test'), 'alpha.test');
    assert.match(features, /<mechanisms/); // authentication is offered once encrypted
  } finally {
    socket.destroy();
  }
});

test('direct TLS presents the beta.test certificate for SNI beta.test', async () => {
  const { socket } = await directTls(lab.domains.beta);
  try {
    assert.equal(socket.authorized, true);
    const cert = socket.getPeerX509Certificate();
    assert.equal(cert?.checkHost('beta.test'), 'beta.test');
    assert.equal(cert?.checkHost('alpha.test'), undefined);
  } finally {
    socket.destroy();
  }
});

test('wrongname.test presents a valid certificate for other.test', async () => {
  await assert.rejects(directTls(lab.domains.wrongname), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  const { socket } = await tlsStreamFeatures(lab.prosody.tlsPort, lab.domains.wrongname, {
    ca: lab.caPem,
    checkServerIdentity: () => undefined, // look at the certificate without the name check
  });
  try {
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerX509Certificate()?.checkHost('other.test'), 'other.test');
  } finally {
    socket.destroy();
  }
});

/** Reads from the socket until `pattern` matches the text received since the last call. */
function reader(socket: TLSSocket): (pattern: RegExp) => Promise<string> {
  let buffered = '';
  let waiting: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    waiting?.();
  });
  return (pattern) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got ${buffered}`)), 3000);
      const check = (): void => {
        const m = pattern.exec(buffered);
        if (!m) return;
        clearTimeout(timer);
        waiting = undefined;
        const upTo = m.index + m[0].length;
        resolve(buffered.slice(0, upTo));
        buffered = buffered.slice(upTo);
      };
      waiting = check;
      check();
    });
}

test('alice logs in with her lab password and has bob in her roster, subscription both', async () => {
  const { socket } = await directTls(lab.domains.alpha);
  try {
    const read = reader(socket);
    const password = lab.users['alice@alpha.test'];
    assert.ok(password);
    socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0alice\0${password}`).toString('base64')}</auth>`);
    assert.match(await read(/<(success|failure)[\s\S]*?(\/>|<\/success>|<\/failure>)/), /<success/);
    socket.write(
      `<stream:stream to='alpha.test' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
    );
    await read(/<\/stream:features>/);
    socket.write(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>lab</resource></bind></iq>`);
    assert.match(await read(/<iq[^>]*id=['"]b1['"][\s\S]*?<\/iq>/), /type=['"]result['"]/);
    socket.write(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`);
    const roster = await read(/<iq[^>]*id=['"]r1['"][\s\S]*?<\/iq>/);
    assert.match(roster, /<item[^>]*jid=['"]bob@alpha\.test['"][^>]*subscription=['"]both['"]|<item[^>]*subscription=['"]both['"][^>]*jid=['"]bob@alpha\.test['"]/);
  } finally {
    socket.destroy();
  }
});
