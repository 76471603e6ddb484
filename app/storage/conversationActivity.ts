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
 */
export function noteMessage(db: Database, accountId: string, peer: string, at: number, incoming: boolean): void {
  prepare(
    db,
    `INSERT INTO conversations (account_id, peer, last_activity, unread, read_through, draft, started_at, by_us)
       VALUES (@accountId, @peer, @at, @incoming, 0, '', @at, 1 - @incoming)
     ON CONFLICT (account_id, peer) DO UPDATE SET
       by_us = max(by_us, excluded.by_us),
       last_activity = max(last_activity, excluded.last_activity),
       unread = unread + (CASE WHEN @incoming = 1 AND excluded.last_activity > read_through THEN 1 ELSE 0 END)`,
  ).run({ accountId, peer, at, incoming: incoming ? 1 : 0 });
}
