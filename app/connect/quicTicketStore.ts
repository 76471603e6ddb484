/**
 * Where the QUIC session pool keeps session tickets between connections (issue 11: "TLS session
 * resumption for the next cold start"): in memory for one process, or in the profile.
 */
import type { StoredTicket } from '../quic/tls/tickets.ts';

/**
 * Where session tickets wait for the next connection to the same server name and ALPN. `take`
 * removes what it returns: each ticket is used once (RFC 8446bis Appendix C.4: "Clients SHOULD NOT
 * reuse a ticket for multiple connections"). `now` is the wall clock (ms since the epoch), for
 * expiry. The client handshake offers a ticket only to the name it was issued for, whatever a
 * store returns.
 */
export interface TicketStore {
  take(serverName: string, alpn: string, now: number): StoredTicket | null;
  put(serverName: string, alpn: string, ticket: StoredTicket, now: number): void;
}

/** Tickets in memory, a few per name (RFC 8446 §4.6.1 lets a server send several; each is single-use here). */
export function memoryTicketStore(perKey = 4): TicketStore {
  const tickets = new Map<string, StoredTicket[]>();
  const keyOf = (serverName: string, alpn: string): string => `${serverName.toLowerCase()}|${alpn}`;
  return {
    take: (serverName, alpn) => tickets.get(keyOf(serverName, alpn))?.shift() ?? null,
    put: (serverName, alpn, ticket) => {
      const key = keyOf(serverName, alpn);
      const list = tickets.get(key) ?? [];
      list.push(ticket);
      if (list.length > perKey) list.shift();
      tickets.set(key, list);
    },
  };
}

/** The profile's ticket table (storage/quicTickets.ts), so the next cold start resumes too. */
export function profileTicketStore(storage: {
  takeQuicTicket(serverName: string, alpn: string, now: number): StoredTicket | null;
  putQuicTicket(serverName: string, alpn: string, ticket: StoredTicket, now: number): void;
}): TicketStore {
  return {
    take: (serverName, alpn, now) => storage.takeQuicTicket(serverName, alpn, now),
    put: (serverName, alpn, ticket, now) => storage.putQuicTicket(serverName, alpn, ticket, now),
  };
}
