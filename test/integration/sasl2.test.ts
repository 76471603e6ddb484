/**
 * XEP-0388 SASL2 with XEP-0386 Bind 2 and XEP-0484 FAST through `establish` against the lab's
 * Prosody 13 (modern.test): a password login over SASL2 binds inline and obtains a FAST token; a
 * second login signs in with that token alone; a token the server never issued is refused as
 * 'fast-token-rejected'.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { establish } from '../../app/connect/connector.ts';
import { buildConnectDeps } from '../../app/connect/connectDeps.ts';
import { ConnectError } from '../../app/connect/connectError.ts';
import type { StreamDriver } from '../../app/connect/streamDriver.ts';
import { labFromEnv } from '../support/lab.ts';

const lab = labFromEnv();
const CAROL = `carol@${lab.prosody13.domain}`;
const USER_AGENT = { id: randomUUID(), device: 'lab' };

describe('SASL2, Bind 2 and FAST against Prosody 13', () => {
  const drivers: StreamDriver[] = [];
  after(() => {
    for (const d of drivers) d.destroy();
  });
  const deps = () =>
    buildConnectDeps(
      { resolver: lab.resolver, resolverValidates: false, extraCaPem: lab.caPem, transport: 'auto' },
      { resolver: null, extraCaPem: null },
      () => undefined,
      { quic: null, transportMemory: null, posh: false },
    );
  const password = lab.users[CAROL];

  test('a password login with SASL2 binds inline, enables SM and carbons, and obtains a FAST token; the token then signs in alone', async () => {
    assert.ok(password);
    const first = await establish(
      {
        jid: CAROL,
        password,
        preference: 'tls',
        accountId: null,
        streamManagement: { resume: true },
        login: { userAgent: USER_AGENT, carbons: true, requestFastToken: true },
      },
      deps(),
    );
    drivers.push(first.driver);
    assert.equal(first.record.sasl2, true, 'SASL2');
    assert.equal(first.record.bind2, true, 'Bind 2');
    assert.equal(first.record.fast, false, 'the password, not a token');
    assert.match(first.record.saslMechanism ?? '', /^SCRAM-SHA-(1|256)(-PLUS)?$/);
    assert.ok(first.boundJid.startsWith(`${CAROL}/`), first.boundJid);
    assert.deepEqual(first.inlineEnabled, ['urn:xmpp:carbons:2']);
    const token = first.fastToken;
    assert.ok(token, 'a FAST token');
    assert.match(token.mechanism, /^HT-SHA-256-/);
    assert.ok(token.expiry > Date.now(), `expiry ${token.expiry} is in the future`);
    first.driver.close();

    const second = await establish(
      {
        jid: CAROL,
        password,
        preference: 'tls',
        accountId: null,
        login: { userAgent: USER_AGENT, fast: { mechanism: token.mechanism, token: token.token } },
      },
      deps(),
    );
    drivers.push(second.driver);
    assert.equal(second.record.fast, true, 'signed in with the token');
    assert.equal(second.record.saslMechanism, token.mechanism);
    assert.equal(second.record.sasl2, true);
    assert.ok(second.boundJid.startsWith(`${CAROL}/`), second.boundJid);
    second.driver.close();
  });

  test('a token the server never issued is refused as fast-token-rejected', async () => {
    assert.ok(password);
    await assert.rejects(
      establish(
        {
          jid: CAROL,
          password,
          preference: 'tls',
          accountId: null,
          login: { userAgent: USER_AGENT, fast: { mechanism: 'HT-SHA-256-NONE', token: 'not-a-token' } },
        },
        deps(),
      ),
      (e: unknown) => {
        assert.ok(e instanceof ConnectError, String(e));
        const codes = [e.code, ...e.attempts.map((a) => a.code)];
        assert.ok(codes.includes('fast-token-rejected' as never), codes.join());
        return true;
      },
    );
  });
  test('a dropped stream is resumed inline in SASL2 with the FAST token: no new bind, the same full JID, the stream answers', async () => {
    assert.ok(password);
    const first = await establish(
      {
        jid: CAROL,
        password,
        preference: 'tls',
        accountId: null,
        streamManagement: { resume: true },
        login: { userAgent: USER_AGENT, carbons: true, requestFastToken: true },
      },
      deps(),
    );
    drivers.push(first.driver);
    const token = first.fastToken;
    assert.ok(token, 'a FAST token');
    // Wait until <enabled/> made the stream resumable, then drop it as a changed network does.
    if (first.driver.streamManagementStatus().phase !== 'on')
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no <enabled/> within 5 s')), 5000);
        first.driver.setEventHandler((event) => {
          if (event.type !== 'sm-enabled') return;
          clearTimeout(timer);
          resolve();
        });
      });
    first.driver.sendMessage({ to: CAROL, body: `to myself ${Date.now()}`, id: `resume-${Date.now()}`, type: 'chat' });
    first.driver.setEventHandler(() => undefined);
    first.driver.destroy();
    const previous = first.driver.streamManagementState();
    assert.ok(previous?.id, 'a resumable state');

    const second = await establish(
      {
        jid: CAROL,
        password,
        preference: 'tls',
        accountId: null,
        streamManagement: { resume: true, previous },
        login: { userAgent: USER_AGENT, fast: { mechanism: token.mechanism, token: token.token } },
      },
      deps(),
    );
    drivers.push(second.driver);
    assert.equal(second.resumed, true, `resumed (refused: ${second.resumeFailed})`);
    assert.equal(second.record.fast, true, 'signed in with the token');
    assert.equal(second.boundJid, first.boundJid, 'the same session, the same full JID');
    assert.equal(typeof second.serverH, 'number');
    // The stream works: a ping is answered.
    const pong = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      let id = '';
      second.driver.setEventHandler((event) => {
        if (event.type === 'pong' && event.id === id) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      id = second.driver.sendPing();
    });
    assert.ok(pong, 'the resumed stream answers a ping');
    second.driver.close();
  });
});
