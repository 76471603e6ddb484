/**
 * What a stored message does to its conversation (conversations.ts), run by `insertMessage` in the
 * message's own transaction, so a message and its conversation's count are stored together or not
 * at all. The unread rule is documented in conversations.ts.
 */
import type { Database } from 'better-sqlite3';
import { prepare } from './statements.ts';

/**
 * Creates the conversation of a newly stored (never a duplicate) message or moves it on: last
 * activity becomes max(old, `at`); an incoming message stamped after `read_through` adds one unread;
 * an outgoing one makes the conversation ours (`by_us`: its peer is no stranger).
 *
 * A message of ours stamped after `read_through` (sent here, or a XEP-0280 'sent' carbon or archive
 * copy from another of the person's devices) says the person has seen the conversation up to it:
 * `read_through` moves to its `at` and only the incoming messages stamped after it stay unread.
 * The conversation with the account's own address (notes to self, the person's other devices)
 * never counts unread: everything in it was written by the person.
 */
export function noteMessage(db: Database, accountId: string, peer: string, at: number, incoming: boolean): void {
  const own = prepare<[string], string>(db, 'SELECT jid FROM accounts WHERE id = ?').pluck().get(accountId) === peer;
  const counts = incoming && !own;
  prepare(
    db,
    `INSERT INTO conversations (account_id, peer, last_activity, unread, read_through, draft, started_at, by_us)
       VALUES (@accountId, @peer, @at, @counts, CASE WHEN @incoming = 1 THEN 0 ELSE @at END, '', @at, 1 - @incoming)
     ON CONFLICT (account_id, peer) DO UPDATE SET
       by_us = max(by_us, excluded.by_us),
       last_activity = max(last_activity, excluded.last_activity),
       unread = unread + (CASE WHEN @counts = 1 AND excluded.last_activity > read_through THEN 1 ELSE 0 END)`,
  ).run({ accountId, peer, at, incoming: incoming ? 1 : 0, counts: counts ? 1 : 0 });
  if (incoming || own) return;
  // Served by messages_history (account_id, peer, at, id): only the messages after this one.
  prepare(
    db,
    `UPDATE conversations SET read_through = @at,
       unread = (SELECT count(*) FROM messages m
                 WHERE m.account_id = @accountId AND m.peer = @peer AND m.at > @at AND m.direction = 'in')
     WHERE account_id = @accountId AND peer = @peer AND read_through < @at`,
  ).run({ accountId, peer, at });
}
