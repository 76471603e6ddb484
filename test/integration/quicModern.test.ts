/**
 * XMPP over QUIC (XEP-0467) to Prosody 13 through the lab's second gateway (quic-modern.test;
 * test/lab/README.md): `establish` with preference 'quic' logs in with XEP-0388 SASL2, binds inline
 * with XEP-0386 Bind 2 and obtains a XEP-0484 FAST token; a second login, on a new QUIC pool with
 * the first one's session tickets, resumes the QUIC session, sends its stream header in 0-RTT and
 * signs in with the token alone. This is issue 12's warm-start path over QUIC ("0-RTT stream
 * header, FAST with Bind2"), which the first gateway (Prosody 0.12) cannot show.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { establish, type Established } from '../../app/connect/connector.ts';
import { buildConnectDeps } from '../../app/connect/connectDeps.ts';
import { QuicSessions } from '../../app/connect/quicSessions.ts';
import { memoryTicketStore } from '../../app/connect/quicTicketStore.ts';
import type { StreamDriver } from '../../app/connect/streamDriver.ts';
import { dnsQuery } from '../lab/dnsQuery.ts';
import { labFromEnv } from '../support/lab.ts';

const lab = labFromEnv();
const DOMAIN = lab.domains.quicModern;
const ALICE = `alice@${DOMAIN}`;
const USER_AGENT = { id: randomUUID(), device: 'lab' };

describe('XMPP over QUIC to Prosody 13: SASL2, Bind 2 and FAST (quic-modern.test)', () => {
  const drivers: StreamDriver[] = [];
  const pools: QuicSessions[] = [];
  after(async () => {
    for (const d of drivers) d.destroy();
    for (const p of pools) await p.close();
  });
  const tickets = memoryTicketStore();
  const login = (
    pool: QuicSessions,
    how: { requestFastToken: true } | { fast: NonNullable<Established['fastToken']> },
  ): Promise<Established> => {
    const password = lab.users[ALICE];
    assert.ok(password, `the lab has ${ALICE}`);
    const deps = buildConnectDeps(
      { resolver: lab.resolver, resolverValidates: false, extraCaPem: lab.caPem, transport: 'quic' },
      { resolver: null, extraCaPem: null },
      () => undefined,
      { httpsPort: lab.https.port, quic: pool, transportMemory: null, posh: false },
    );
    return establish(
      {
        jid: ALICE,
        password,
        preference: 'quic',
        accountId: null,
        login:
          'fast' in how
            ? { userAgent: USER_AGENT, fast: { mechanism: how.fast.mechanism, token: how.fast.token } }
            : { userAgent: USER_AGENT, requestFastToken: true },
      },
      deps,
    );
  };

  test("the _xmppq-client._udp SRV names the second gateway, not the first; modern.test has none (its 'auto' stays on TCP)", async () => {
    const q = lab.scenarios[DOMAIN]?.quic;
    assert.equal(lab.scenarios[DOMAIN]?.server, 'modern');
    assert.equal(q?.port, lab.prosody13Gateway.port);
    assert.notEqual(lab.prosody13Gateway.port, lab.gateway.port);
    const reply = await dnsQuery(lab.resolver, `_xmppq-client._udp.${DOMAIN}`, 'SRV');
    const srv = (reply.packet.answers ?? []).flatMap((r) => (r.type === 'SRV' ? [r.data] : []));
    assert.deepEqual(
      srv.map((d) => `${d.port} ${d.target}`),
      [`${lab.prosody13Gateway.port} xmpp.${DOMAIN}`],
    );
    assert.equal(lab.scenarios[lab.domains.modern]?.quic, null);
  });

  test('a password login over QUIC uses SASL2 with Bind 2 and gets a FAST token; a new pool with its tickets resumes, sends the header in 0-RTT and signs in with the token', async () => {
    const firstPool = new QuicSessions({ tickets });
    pools.push(firstPool);
    const first = await login(firstPool, { requestFastToken: true });
    drivers.push(first.driver);
    assert.equal(first.record.transport, 'quic', 'over QUIC');
    assert.equal(first.record.alpn, 'xmpp-client');
    assert.equal(first.record.verification.trusted, true);
    assert.equal(first.record.fallback, null);
    assert.equal(first.record.sasl2, true, 'SASL2');
    assert.equal(first.record.bind2, true, 'Bind 2');
    assert.equal(first.record.fast, false, 'the password, not a token');
    assert.ok(first.boundJid.startsWith(`${ALICE}/`), first.boundJid);
    const token = first.fastToken;
    assert.ok(token, 'a FAST token over QUIC');
    assert.match(token.mechanism, /^HT-SHA-256-/);
    first.driver.close();
    await firstPool.close();

    const pool = new QuicSessions({ tickets });
    pools.push(pool);
    const second = await login(pool, { fast: token });
    drivers.push(second.driver);
    assert.equal(second.record.transport, 'quic');
    assert.equal(second.record.fast, true, 'signed in with the token');
    assert.equal(second.record.saslMechanism, token.mechanism);
    assert.equal(second.record.sasl2, true);
    assert.equal(second.record.bind2, true);
    assert.ok(second.boundJid.startsWith(`${ALICE}/`), second.boundJid);
    assert.equal(second.record.quic?.resumed, true, 'QUIC session resumed from the first pool’s ticket');
    assert.equal(second.record.quic?.earlyData, 'accepted', 'stream header in 0-RTT, taken by the gateway');
    second.driver.close();
  });
});
