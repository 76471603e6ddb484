/**
 * TLS session tickets of QUIC servers (migration 0009), so that the next cold start resumes
 * (RFC 8446 §2.2) instead of fetching and checking the certificate chain and signature again. A
 * few tickets per (server name, ALPN), each handed out once and then gone (RFC 8446bis Appendix
 * C.4: "Clients SHOULD NOT reuse a ticket for multiple connections"); expired ones are pruned on
 * every call, and the table is bounded in count.
 *
 * Why the PSK is kept in the database unsealed (decision for issue 11). A ticket's resumption PSK
 * authenticates the SERVER to us on a resumed handshake: whoever steals it can impersonate that one
 * server to this client, in resumed handshakes only, until the ticket expires (at most 7 days) or
 * is used. It does not decrypt recorded traffic (we offer psk_dhe_ke only, RFC 8446 §4.2.9, so
 * every resumed handshake has a fresh (EC)DHE secret). The database is 0600 in a 0700 profile
 * directory (openProfile.ts refuses anything looser). Sealing with the password mechanism
 * (secretStore.ts) would not raise the bar enough to pay for itself:
 *  - whoever can read the profile as the user can also write it, and the rows that are already
 *    there (certificate pins, the POSH cache) let them do the same impersonation for longer, and
 *    read the message history, which is worth more than a 7-day ticket;
 *  - the CLI's password store is itself a 0600 file (FileSecretStore), so outside Electron sealing
 *    means the same protection; inside Electron, safeStorage is reached only through main/ and
 *    on Linux without a keyring falls back to a fixed key;
 *  - unsealing would put an asynchronous IPC round trip on every connect, whose whole point is
 *    to save round trips.
 * What bounds the exposure instead: the lifetime cap, single use, the per-name and global bounds,
 * `clearQuicTickets` (to forget every server), and the verifier, which still judges the chain
 * stored with the ticket on every resumption. A profile copied into a backup exposes tickets for
 * at most 7 days after the copy.
 */
import type { Database } from 'better-sqlite3';
import { MAX_TICKET_LIFETIME_SECONDS, parseStoredTicket, type StoredTicket } from '../quic/tls/tickets.ts';
import { prepare } from './statements.ts';

/** Tickets kept per (server name, ALPN); a server sends several (RFC 8446 §4.6.1), each used once. */
export const MAX_QUIC_TICKETS_PER_NAME = 4;

/** Tickets kept in all; storing beyond it drops the ones that expire first. */
export const MAX_QUIC_TICKETS = 256;

interface Row {
  id: number;
  ticket: string;
}

/** Unusable rows: expired, or from a clock that has since gone back (RFC 8446 §4.2.11.1 ages). */
export const PRUNE_EXPIRED_QUIC_TICKETS_SQL = 'DELETE FROM quic_tickets WHERE expires_at <= ? OR received_at > ?';

export const TAKE_QUIC_TICKET_SQL = `SELECT id, ticket FROM quic_tickets WHERE server_name = ? AND alpn = ?
  ORDER BY received_at DESC LIMIT 1`;

/** Deletes the name's tickets beyond the newest `?`. */
export const PRUNE_QUIC_TICKETS_PER_NAME_SQL = `DELETE FROM quic_tickets WHERE id IN (
  SELECT id FROM quic_tickets WHERE server_name = ? AND alpn = ? ORDER BY received_at DESC LIMIT -1 OFFSET ?)`;

/** Deletes every ticket but the `?` that expire last. */
export const PRUNE_QUIC_TICKETS_SQL = `DELETE FROM quic_tickets WHERE id IN (
  SELECT id FROM quic_tickets ORDER BY expires_at DESC LIMIT -1 OFFSET ?)`;

function nameKey(serverName: string): string {
  return serverName.toLowerCase().replace(/\.$/, '');
}

export const quicTicketMethods = {
  /**
   * Removes and returns the newest usable ticket issued by `serverName` for `alpn`, or null. A row
   * that is not a ticket, or is one for another name (a hand-edited or damaged profile), is dropped
   * and never returned: a ticket is only ever offered to the name it was issued for.
   * @param now ms since the epoch
   */
  takeQuicTicket(db: Database, serverName: string, alpn: string, now: number): StoredTicket | null {
    const name = nameKey(serverName);
    return db.transaction(() => {
      prepare(db, PRUNE_EXPIRED_QUIC_TICKETS_SQL).run(now, now);
      for (let tries = 0; tries < MAX_QUIC_TICKETS_PER_NAME + 1; tries++) {
        const row = prepare<[string, string], Row>(db, TAKE_QUIC_TICKET_SQL).get(name, alpn);
        if (!row) return null;
        prepare(db, 'DELETE FROM quic_tickets WHERE id = ?').run(row.id);
        const ticket = parseStoredTicket(JSON.parse(row.ticket));
        if (ticket && nameKey(ticket.serverName) === name && ticket.alpn === alpn) return ticket;
      }
      return null;
    })();
  },

  /**
   * Keeps `ticket` for the next connection to `serverName` with `alpn` until it expires (its
   * lifetime, at most 7 days, from `ticket.receivedAt`), then drops the name's oldest beyond
   * `MAX_QUIC_TICKETS_PER_NAME` and the table's beyond `MAX_QUIC_TICKETS`, in one transaction. A
   * ticket that is already expired, or issued for another name or ALPN, is not stored.
   */
  putQuicTicket(db: Database, serverName: string, alpn: string, ticket: StoredTicket, now: number): void {
    const name = nameKey(serverName);
    if (nameKey(ticket.serverName) !== name || ticket.alpn !== alpn) return;
    const lifetimeMs = Math.min(ticket.lifetimeSeconds, MAX_TICKET_LIFETIME_SECONDS) * 1000;
    const expiresAt = ticket.receivedAt + lifetimeMs;
    if (lifetimeMs <= 0 || expiresAt <= now || ticket.receivedAt > now) return;
    db.transaction(() => {
      prepare(db, PRUNE_EXPIRED_QUIC_TICKETS_SQL).run(now, now);
      prepare(
        db,
        'INSERT INTO quic_tickets (server_name, alpn, ticket, received_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      ).run(name, alpn, JSON.stringify(ticket), ticket.receivedAt, expiresAt);
      prepare(db, PRUNE_QUIC_TICKETS_PER_NAME_SQL).run(name, alpn, MAX_QUIC_TICKETS_PER_NAME);
      prepare(db, PRUNE_QUIC_TICKETS_SQL).run(MAX_QUIC_TICKETS);
    })();
  },

  /** Forgets every server's tickets (the next connection to each is a full handshake); returns how many. */
  clearQuicTickets(db: Database): number {
    return prepare(db, 'DELETE FROM quic_tickets').run().changes;
  },
};
