/**
 * The profile's QUIC session tickets (migration 0009): single use, per (server name, ALPN), newest
 * first, pruned when expired (at most 7 days) and bounded in count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from 'better-sqlite3';
import { openDatabase } from '../../../app/storage/openDatabase.ts';
import { bindStorage, type Storage } from '../../../app/storage/storage.ts';
import {
  MAX_QUIC_TICKETS,
  MAX_QUIC_TICKETS_PER_NAME,
  PRUNE_QUIC_TICKETS_PER_NAME_SQL,
  PRUNE_QUIC_TICKETS_SQL,
  TAKE_QUIC_TICKET_SQL,
} from '../../../app/storage/quicTickets.ts';
import type { StoredTicket } from '../../../app/quic/tls/tickets.ts';

const ALPN = 'xmpp-client';
const DAY = 86_400_000;

function open(t: { after(fn: () => void): void }): { db: Database; storage: Storage } {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  return { db, storage: bindStorage(db) };
}

function ticket(serverName: string, receivedAt: number, label: string, lifetimeSeconds = 7200): StoredTicket {
  return {
    version: 1,
    serverName,
    alpn: ALPN,
    cipherSuite: 0x1301,
    ticket: Buffer.from(label).toString('base64'),
    psk: Buffer.from(`psk of ${label}`).toString('base64'),
    ageAdd: 7,
    lifetimeSeconds,
    receivedAt,
    peerChain: [Buffer.from('leaf').toString('base64')],
  };
}

const label = (t: StoredTicket | null): string | null => (t ? Buffer.from(t.ticket, 'base64').toString() : null);

test('a ticket is taken once, newest first, and only by its own server name and ALPN', (t) => {
  const { storage } = open(t);
  storage.putQuicTicket('alpha.test', ALPN, ticket('alpha.test', 1000, 'a1'), 1000);
  storage.putQuicTicket('Alpha.TEST.', ALPN, ticket('alpha.test', 2000, 'a2'), 2000);
  storage.putQuicTicket('beta.test', ALPN, ticket('beta.test', 2000, 'b1'), 2000);
  assert.equal(storage.takeQuicTicket('gamma.test', ALPN, 3000), null, 'another name gets nothing');
  assert.equal(storage.takeQuicTicket('alpha.test', 'other-alpn', 3000), null, 'another ALPN gets nothing');
  const first = storage.takeQuicTicket('ALPHA.test', ALPN, 3000);
  assert.equal(label(first), 'a2');
  assert.deepEqual(first, ticket('alpha.test', 2000, 'a2'), 'the ticket comes back whole, PSK and chain included');
  assert.equal(label(storage.takeQuicTicket('alpha.test', ALPN, 3000)), 'a1');
  assert.equal(storage.takeQuicTicket('alpha.test', ALPN, 3000), null, 'each was used once');
  assert.equal(label(storage.takeQuicTicket('beta.test', ALPN, 3000)), 'b1');
});

test('a ticket issued for another name is neither stored under this one nor returned for it', (t) => {
  const { db, storage } = open(t);
  storage.putQuicTicket('alpha.test', ALPN, ticket('beta.test', 1000, 'b-as-a'), 1000);
  assert.equal(db.prepare('SELECT count(*) FROM quic_tickets').pluck().get(), 0);
  // A damaged or hand-edited row that files beta's ticket under alpha is dropped, never offered.
  db.prepare(
    `INSERT INTO quic_tickets (server_name, alpn, ticket, received_at, expires_at) VALUES ('alpha.test', ?, ?, 1000, 2000000)`,
  ).run(ALPN, JSON.stringify(ticket('beta.test', 1000, 'b-as-a')));
  db.prepare(
    `INSERT INTO quic_tickets (server_name, alpn, ticket, received_at, expires_at) VALUES ('alpha.test', ?, '{"version":2}', 900, 2000000)`,
  ).run(ALPN);
  assert.equal(storage.takeQuicTicket('alpha.test', ALPN, 1500), null);
  assert.equal(db.prepare('SELECT count(*) FROM quic_tickets').pluck().get(), 0, 'both bad rows are gone');
});

test('expired tickets are pruned: their own lifetime, never more than 7 days', (t) => {
  const { db, storage } = open(t);
  const t0 = 1_000_000;
  storage.putQuicTicket('short.test', ALPN, ticket('short.test', t0, 's', 60), t0);
  // A server that claims more than 7 days gets 7 (RFC 8446 §4.6.1 forbids more anyway).
  storage.putQuicTicket('long.test', ALPN, ticket('long.test', t0, 'l', 30 * 86_400), t0);
  assert.deepEqual(
    db.prepare('SELECT server_name, expires_at - received_at FROM quic_tickets ORDER BY server_name').raw().all(),
    [
      ['long.test', 7 * DAY],
      ['short.test', 60_000],
    ],
  );
  assert.equal(storage.takeQuicTicket('short.test', ALPN, t0 + 60_000), null, 'expired at its lifetime');
  assert.equal(storage.takeQuicTicket('long.test', ALPN, t0 + 7 * DAY), null, 'expired after 7 days');
  assert.equal(db.prepare('SELECT count(*) FROM quic_tickets').pluck().get(), 0, 'both rows are pruned');
  // Already expired, or zero lifetime ("discarded immediately"): never stored.
  storage.putQuicTicket('short.test', ALPN, ticket('short.test', t0, 'old', 60), t0 + 61_000);
  storage.putQuicTicket('short.test', ALPN, ticket('short.test', t0, 'zero', 0), t0);
  assert.equal(db.prepare('SELECT count(*) FROM quic_tickets').pluck().get(), 0);
});

test('a ticket from the future (the clock went back) is dropped rather than offered', (t) => {
  const { db, storage } = open(t);
  storage.putQuicTicket('alpha.test', ALPN, ticket('alpha.test', 5000, 'a'), 5000);
  assert.equal(storage.takeQuicTicket('alpha.test', ALPN, 4000), null);
  assert.equal(db.prepare('SELECT count(*) FROM quic_tickets').pluck().get(), 0);
});

test('the table is bounded: a few per name, and a global cap that drops what expires first', (t) => {
  const { db, storage } = open(t);
  for (let i = 0; i < MAX_QUIC_TICKETS_PER_NAME + 3; i++)
    storage.putQuicTicket('alpha.test', ALPN, ticket('alpha.test', 1000 + i, `a${i}`), 2000);
  assert.equal(db.prepare('SELECT count(*) FROM quic_tickets').pluck().get(), MAX_QUIC_TICKETS_PER_NAME);
  assert.equal(label(storage.takeQuicTicket('alpha.test', ALPN, 2000)), `a${MAX_QUIC_TICKETS_PER_NAME + 2}`);
  storage.clearQuicTickets();

  for (let i = 0; i < MAX_QUIC_TICKETS + 10; i++)
    storage.putQuicTicket(`n${i}.test`, ALPN, ticket(`n${i}.test`, 1000 + i, `n${i}`), 2000);
  assert.equal(db.prepare('SELECT count(*) FROM quic_tickets').pluck().get(), MAX_QUIC_TICKETS);
  assert.equal(storage.takeQuicTicket('n0.test', ALPN, 2000), null, 'the first to expire went');
  assert.equal(label(storage.takeQuicTicket(`n${MAX_QUIC_TICKETS + 9}.test`, ALPN, 2000)), `n${MAX_QUIC_TICKETS + 9}`);
  assert.equal(storage.clearQuicTickets(), MAX_QUIC_TICKETS - 1);
});

test('the ticket queries search their indexes', (t) => {
  const { db } = open(t);
  const plan = (sql: string, args: unknown[]): string[] =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
  assert.deepEqual(plan(TAKE_QUIC_TICKET_SQL, ['alpha.test', ALPN]), [
    'SEARCH quic_tickets USING INDEX quic_tickets_by_name (server_name=? AND alpn=?)',
  ]);
  assert.ok(
    plan(PRUNE_QUIC_TICKETS_PER_NAME_SQL, ['alpha.test', ALPN, 4]).includes(
      'SEARCH quic_tickets USING COVERING INDEX quic_tickets_by_name (server_name=? AND alpn=?)',
    ),
  );
  // The global cap walks the expiry index instead of sorting (the expiry prune may scan: the
  // table never holds more than MAX_QUIC_TICKETS rows).
  assert.ok(plan(PRUNE_QUIC_TICKETS_SQL, [4]).includes('SCAN quic_tickets USING COVERING INDEX quic_tickets_expiry'));
});
