/**
 * The lab's Prosody 13 (bookworm-backports, beside 0.12; test/lab/prosody13.ts) offers what
 * issue 12 builds on, as a raw TLS client sees it: XEP-0388 SASL2 with XEP-0386 Bind2 inline,
 * XEP-0484 FAST when the stream header names the account, XEP-0198 after login (legacy SASL) and
 * inline in SASL2, resumption inline in a FAST login. And an old client still logs in there:
 * Quiver's connector (`establish`: legacy SASL and bind) over direct TLS and STARTTLS.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { parse, type Element } from 'ltx';
import { establish } from '../../app/connect/connector.ts';
import { buildConnectDeps } from '../../app/connect/connectDeps.ts';
import type { StreamDriver } from '../../app/connect/streamDriver.ts';
import type { SecurityRecord } from '../../app/contract/viewModels.ts';
import { tlsStreamFeatures } from '../lab/streamProbe.ts';
import { labFromEnv } from '../support/lab.ts';

const lab = labFromEnv();
const DOMAIN = lab.prosody13.domain;
const ALICE = `alice@${DOMAIN}`;
const WAIT_MS = 5_000;

const NS_SASL2 = 'urn:xmpp:sasl:2';
const NS_BIND2 = 'urn:xmpp:bind:0';
const NS_FAST = 'urn:xmpp:fast:0';
const NS_SM = 'urn:xmpp:sm:3';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** `<stream:features>` of the text as an element (the stream header's prefix is left out). */
function featuresOf(text: string): Element {
  const start = text.indexOf('<stream:features');
  const end = text.indexOf('</stream:features>');
  assert.ok(start >= 0 && end > start, `stream features in ${text}`);
  return parse(text.slice(start, end + '</stream:features>'.length)) as Element;
}

/**
 * A raw XMPP client on one TLS socket to Prosody 13's direct TLS port: writes strings, waits
 * (bounded) for the next top-level element with a given name and takes it from the buffer.
 */
class RawStream {
  readonly socket: TLSSocket;
  #text = '';
  #closed = false;
  #wake: () => void = () => undefined;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#text += chunk;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined); // 'close' follows and ends every wait
  }

  static async open(): Promise<RawStream> {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: lab.prosody13.tlsPort,
      servername: DOMAIN,
      ca: lab.caPem,
      ALPNProtocols: ['xmpp-client'],
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return new RawStream(socket);
  }

  /** RFC 6120 §4.7: the initial stream header; `from` the account (XEP-0484 §3 wants it for FAST). */
  header(from: string | null): Promise<Element> {
    this.socket.write(
      `<?xml version='1.0'?><stream:stream to='${DOMAIN}'${from ? ` from='${from}'` : ''} version='1.0' ` +
        `xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
    );
    return this.next('stream:features');
  }

  send(xml: string): void {
    this.socket.write(xml);
  }

  /**
   * The next complete top-level element named one of `names` (`<name .../>` or `<name ...>...</name>`,
   * not nested in one of its own name); everything before it is dropped.
   */
  async next(...names: string[]): Promise<Element> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.#take(names);
      if (found) return found;
      if (this.#closed) throw new Error(`stream closed before <${names.join('> or <')}>: ${this.#text}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no <${names.join('> or <')}> within ${WAIT_MS} ms: ${this.#text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #take(names: readonly string[]): Element | null {
    const open = new RegExp(`<(${names.join('|')})[\\s/>]`).exec(this.#text);
    if (!open) return null;
    const [, name = ''] = open;
    const start = open.index;
    const gt = this.#text.indexOf('>', start);
    let end: number;
    if (this.#text[gt - 1] === '/') end = gt + 1;
    else {
      const close = this.#text.indexOf(`</${name}>`, start);
      if (close < 0) return null;
      end = close + `</${name}>`.length;
    }
    let xml = this.#text.slice(start, end);
    this.#text = this.#text.slice(end);
    // The stream's own prefix is declared on the header, which ltx does not see.
    if (name.startsWith('stream:'))
      xml = xml.replace(`<${name}`, `<${name} xmlns:stream='http://etherx.jabber.org/streams'`);
    return parse(xml) as Element;
  }

  /** Ends the TCP connection without `</stream:stream>`: the server keeps a resumable session. */
  cut(): void {
    this.socket.destroy();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.socket.end('</stream:stream>');
    this.socket.destroySoon();
  }
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

describe('Prosody 13 (modern.test): SASL2, Bind2, FAST, SM', () => {
  const open: RawStream[] = [];
  const drivers: StreamDriver[] = [];
  after(async () => {
    for (const s of open) s.cut();
    for (const d of drivers) d.destroy();
  });

  test('lab.json names Prosody 13 and modern.test with its accounts', () => {
    assert.match(lab.prosody13.version, /^13\./);
    assert.equal(lab.domains.modern, DOMAIN);
    assert.equal(lab.scenarios[DOMAIN]?.server, 'modern');
    for (const user of ['alice', 'bob', 'carol']) assert.ok(lab.users[`${user}@${DOMAIN}`], user);
    assert.notEqual(lab.prosody13.tlsPort, lab.prosody.tlsPort);
    assert.notEqual(lab.prosody13.starttlsPort, lab.prosody.starttlsPort);
  });

  test("direct TLS: SASL2 with Bind2 inline and FAST for from='alice@modern.test'; no FAST without from", async () => {
    const options = { ca: lab.caPem, ALPNProtocols: ['xmpp-client'] };
    const withFrom = await tlsStreamFeatures(lab.prosody13.tlsPort, DOMAIN, options, WAIT_MS, ALICE);
    withFrom.socket.destroy();
    assert.equal(withFrom.socket.authorized, true, 'the lab-CA certificate for modern.test');
    assert.equal(withFrom.socket.alpnProtocol, 'xmpp-client');
    const features = featuresOf(withFrom.features);
    // XEP-0388 §2.1: <authentication xmlns='urn:xmpp:sasl:2'> lists the mechanisms ...
    const authentication = features.getChild('authentication', NS_SASL2);
    assert.ok(authentication, withFrom.features);
    const mechanisms = authentication.getChildren('mechanism').map((m) => m.getText());
    assert.ok(mechanisms.includes('PLAIN') && mechanisms.some((m) => m.startsWith('SCRAM-')), mechanisms.join());
    // ... and <inline> the features that may be negotiated with authentication.
    const inline = authentication.getChild('inline');
    assert.ok(inline, 'SASL2 <inline>');
    const bind = inline.getChild('bind', NS_BIND2);
    assert.ok(bind, 'XEP-0386 Bind2 inline');
    const bindInline = (bind.getChild('inline')?.getChildren('feature') ?? []).map((f) => f.attrs.var as string);
    for (const ns of ['urn:xmpp:carbons:2', 'urn:xmpp:csi:0', NS_SM])
      assert.ok(bindInline.includes(ns), `${ns} in Bind2`);
    const fast = inline.getChild('fast', NS_FAST);
    assert.ok(fast, 'XEP-0484 FAST offered for the account in from');
    assert.ok(fast.getChildren('mechanism').some((m) => m.getText() === 'HT-SHA-256-NONE'));
    assert.ok(inline.getChild('sm', NS_SM), 'XEP-0198 inline in SASL2 (resumption)');
    // Legacy SASL for older clients, beside SASL2.
    assert.ok(features.getChild('mechanisms', NS_SASL));

    const without = await tlsStreamFeatures(lab.prosody13.tlsPort, DOMAIN, options, WAIT_MS);
    without.socket.destroy();
    const anonymous = featuresOf(without.features).getChild('authentication', NS_SASL2);
    assert.ok(anonymous?.getChild('inline')?.getChild('bind', NS_BIND2), 'Bind2 without from too');
    assert.equal(anonymous?.getChild('inline')?.getChild('fast', NS_FAST), undefined, 'no FAST without from');
  });

  test('legacy SASL PLAIN login: after the restart the features offer <sm xmlns="urn:xmpp:sm:3"/> and bind', async () => {
    const stream = await RawStream.open();
    open.push(stream);
    await stream.header(null);
    stream.send(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${b64(`\0alice\0${lab.users[ALICE]}`)}</auth>`);
    const outcome = await stream.next('success', 'failure');
    assert.equal(outcome.name, 'success', outcome.toString());
    // RFC 6120 §6.4.6: after SASL success the client restarts the stream.
    const features = await stream.header(null);
    assert.ok(features.getChild('sm', NS_SM), features.toString());
    assert.ok(features.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'), features.toString());
    await stream.close();
  });

  test('SASL2 PLAIN with Bind2 (SM enabled inline) and a FAST token; then a FAST login resumes that session inline', async () => {
    const clientId = randomUUID();
    const userAgent = `<user-agent id='${clientId}'><software>Quiver lab test</software></user-agent>`;
    const first = await RawStream.open();
    open.push(first);
    await first.header(ALICE);
    // XEP-0388 §2.2 <authenticate>; XEP-0386 §3 <bind> inline; XEP-0484 §4 <request-token>.
    first.send(
      `<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'>` +
        `<initial-response>${b64(`\0alice\0${lab.users[ALICE]}`)}</initial-response>${userAgent}` +
        `<request-token xmlns='${NS_FAST}' mechanism='HT-SHA-256-NONE'/>` +
        `<bind xmlns='${NS_BIND2}'><tag>lab</tag><enable xmlns='${NS_SM}' resume='true'/>` +
        `<enable xmlns='urn:xmpp:carbons:2'/></bind></authenticate>`,
    );
    const success = await first.next('success');
    assert.equal(success.attrs.xmlns, NS_SASL2, success.toString());
    assert.match(success.getChildText('authorization-identifier') ?? '', new RegExp(`^${ALICE}/`));
    const enabled = success.getChild('bound', NS_BIND2)?.getChild('enabled', NS_SM);
    assert.ok(enabled?.attrs.id, `SM enabled inline: ${success.toString()}`);
    assert.ok(['true', '1'].includes(String(enabled.attrs.resume)));
    const token = success.getChild('token', NS_FAST)?.attrs.token as string | undefined;
    assert.ok(token, `a FAST token: ${success.toString()}`);
    // One stanza the server counts, then the link drops without a stream close.
    first.send(`<iq type='get' id='ping1' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await first.next('iq');
    first.cut();

    const second = await RawStream.open();
    open.push(second);
    await second.header(ALICE);
    // XEP-0484 §3.3 HT-SHA-256-NONE: authcid NUL HMAC-SHA-256(token, "Initiator" || cb-data), no cb-data.
    const proof = createHmac('sha256', token).update('Initiator').digest();
    second.send(
      `<authenticate xmlns='${NS_SASL2}' mechanism='HT-SHA-256-NONE'>` +
        `<initial-response>${b64(Buffer.concat([Buffer.from('alice\0'), proof]))}</initial-response>${userAgent}` +
        `<fast xmlns='${NS_FAST}'/><resume xmlns='${NS_SM}' previd='${String(enabled.attrs.id)}' h='1'/></authenticate>`,
    );
    const fastSuccess = await second.next('success', 'failure');
    assert.equal(fastSuccess.name, 'success', fastSuccess.toString());
    assert.ok(fastSuccess.getChild('resumed', NS_SM), `resumed inline: ${fastSuccess.toString()}`);
    await second.close();
  });

  const deps = () =>
    buildConnectDeps(
      { resolver: lab.resolver, resolverValidates: false, extraCaPem: lab.caPem, transport: 'auto' },
      { resolver: null, extraCaPem: null },
      () => undefined,
      { quic: null, transportMemory: null, posh: false },
    );

  for (const [preference, port] of [
    ['tls', lab.prosody13.tlsPort],
    ['starttls', lab.prosody13.starttlsPort],
  ] as const) {
    test(`an old client (Quiver's establish: SASL and bind) logs in to alice@modern.test over ${preference}`, async () => {
      const password = lab.users[ALICE];
      assert.ok(password);
      const { driver, record, boundJid } = await establish(
        { jid: ALICE, password, preference, accountId: null },
        deps(),
      );
      drivers.push(driver);
      const r: SecurityRecord = record;
      assert.ok(boundJid.startsWith(`${ALICE}/`), boundJid);
      assert.equal(r.transport, preference);
      assert.equal(r.port, port, 'SRV names Prosody 13');
      assert.equal(r.verification.trusted, true);
      assert.equal(r.verification.prooftype, 'pkix');
      assert.match(r.saslMechanism ?? '', /^SCRAM-SHA-(1|256)(-PLUS)?$/);
      driver.close();
    });
  }
});
