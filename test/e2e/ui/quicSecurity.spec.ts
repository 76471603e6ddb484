/**
 * The QUIC facts of a connection in the security view (issue 11): "the verdict, prooftype and QUIC
 * facts (version, cipher, ALPN, SNI, path MTU, ECH state: "not available") are stored with the
 * connection and shown in the security view", and "every migration and reconnection is stored with
 * the connection (time, old and new local address, RTT before and after, what happened) and shown
 * in the security view".
 *
 * Run with `node_modules/.bin/node test/e2e/ui/run.ts` (with the other UI specs).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openUi, shoot, useUiSuite } from './harness.ts';
import { openSecurity } from './openSecurity.ts';
import { account, pathEvent, quicSecurityRecord, securityRecord } from './fixtures.ts';

useUiSuite();

describe('QUIC facts in the security view', () => {
  it('shows the QUIC session, stream, path MTU, ECH, addresses, fallback and path events in words', async () => {
    const now = Date.now();
    const startedAt = now - 3_600_000;
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      records: [
        quicSecurityRecord('q1', 'a1', startedAt, {
          fallback: 'the shared QUIC session refused another stream, so this account got a QUIC connection of its own',
        }),
        securityRecord('t1', 'a1', startedAt - 3_600_000, { transport: 'tls', source: 'srv:_xmpps-client._tcp' }),
      ],
    });
    await openSecurity(page, 'alice@example.org');
    const card = page.locator('[data-testid="security-record"][data-record-id="q1"]');
    await card.waitFor();
    if ((await card.getAttribute('open')) === null) await card.locator('summary').click();

    assert.equal(await card.getByTestId('security-transport').innerText(), 'QUIC v1');
    assert.equal(await card.getByTestId('security-quic-version').innerText(), 'QUIC v1');
    const connection = card.getByTestId('security-quic-connection');
    assert.match(await connection.innerText(), /^9c41e07a…, shared with 2 other accounts$/);
    assert.equal(await connection.locator('[title]').getAttribute('title'), '9c41e07a5b2d4f18');
    assert.equal(await card.getByTestId('security-quic-stream').innerText(), '4');
    assert.equal(await card.getByTestId('security-quic-mtu').innerText(), '1452 bytes');
    assert.match(
      await card.getByTestId('security-quic-session').innerText(),
      /^Resumed from an earlier connection.*stream header went ahead in 0-RTT/,
    );
    assert.match(await card.getByTestId('security-quic-ech').innerText(), /^Not available/);
    assert.equal(
      await card.getByTestId('security-quic-addresses').innerText(),
      '172.20.10.4:50123 → [2001:db8::5]:5222',
    );
    assert.equal(
      await card.getByTestId('security-fallback').innerText(),
      'Quiver did not use its first choice for this connection: the shared QUIC session refused another stream, so this account got a QUIC connection of its own.',
    );

    const events = card.getByTestId('security-path-event');
    assert.equal(await events.count(), 2);
    const moved = events.nth(0);
    assert.equal(await moved.getAttribute('data-kind'), 'migrated');
    assert.equal(await moved.getByTestId('security-path-event-what').innerText(), 'Moved to a new network address');
    assert.equal(
      await moved.getByTestId('security-path-event-addresses').innerText(),
      '192.168.1.23:50123 → 172.20.10.4:50123',
    );
    assert.equal(await moved.getByTestId('security-path-event-rtt').innerText(), 'RTT 18 ms → 61 ms');
    // Local time, as the browser formats it (the page and this test share the time zone).
    const localTime = await page.evaluate(
      (at) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(at),
      startedAt + 600_000,
    );
    assert.equal(await moved.locator('time').innerText(), localTime);
    const checked = events.nth(1);
    assert.equal(await checked.getByTestId('security-path-event-what').innerText(), 'Checked: alive (XEP-0198 ack)');
    assert.equal(await checked.getByTestId('security-path-event-addresses').count(), 0);

    await card.getByTestId('security-fallback').scrollIntoViewIfNeeded();
    await shoot(page, 'ui-security-quic-facts');

    // A TCP record shows no QUIC section and no events.
    const tcp = page.locator('[data-testid="security-record"][data-record-id="t1"]');
    await tcp.locator('summary').click();
    assert.equal(await tcp.getByTestId('security-transport').innerText(), 'Direct TLS');
    assert.equal(await tcp.getByTestId('security-quic').count(), 0);
    assert.equal(await tcp.getByTestId('security-path-events').count(), 0);

    // A record that gains an event is shown with it (the core re-sends the record).
    core.emit({
      name: 'connection.recorded',
      payload: {
        record: quicSecurityRecord('q1', 'a1', startedAt, {
          pathEvents: [
            pathEvent(startedAt + 600_000),
            pathEvent(startedAt + 900_000, {
              kind: 'migration-failed',
              from: '172.20.10.4:50123',
              to: '10.0.0.9:40000',
              rttAfterMs: null,
              detail: 'no answer to PATH_CHALLENGE from the new address',
            }),
          ],
        }),
      },
    });
    await card.locator('[data-testid="security-path-event"][data-kind="migration-failed"]').waitFor();
    const failed = card.locator('[data-testid="security-path-event"][data-kind="migration-failed"]');
    assert.equal(
      await failed.getByTestId('security-path-event-what').innerText(),
      'Could not move to the new network address; reconnected',
    );
    assert.equal(await failed.getByTestId('security-path-event-rtt').innerText(), 'RTT 18 ms → —');
    assert.match(await failed.innerText(), /no answer to PATH_CHALLENGE/);
    await shoot(page, 'ui-security-quic');
  });
});
