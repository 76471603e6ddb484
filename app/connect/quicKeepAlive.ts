/** The QUIC session pool's keep-alive: one PING per session while it carries accounts (issue 11). */

/**
 * How long a session that carries streams may be quiet before it sends a PING. The idle timeout
 * in force is the negotiated one but never below three PTOs (RFC 9000 §10.1: "To avoid excessively
 * small idle timeout periods, endpoints MUST increase the idle timeout period to be at least three
 * times the current Probe Timeout (PTO)"); a third of it leaves room for two tries, since a lost
 * PING must be repaired before the timeout (RFC 9000 §10.1.2: "An endpoint that sends packets
 * close to the effective timeout risks having them be discarded"). At most 25 s, which NATs need to
 * keep a UDP binding (RFC 4787 REQ-5 allows bindings of 2 min, many NATs keep them only 30 s), and
 * at least 1 s, so a tiny advertised timeout cannot make the session ping in a loop.
 *
 * @param idleTimeoutMs the negotiated idle timeout (`QuicConnection.idleTimeout`); 0 when neither side set one
 * @param ptoMs the connection's current PTO (`QuicConnection.pto`)
 */
export function keepAliveInterval(idleTimeoutMs: number, ptoMs: number): number {
  if (idleTimeoutMs <= 0) return NAT_KEEP_ALIVE_MS;
  const effective = Math.max(idleTimeoutMs, 3 * ptoMs);
  return Math.max(MIN_KEEP_ALIVE_MS, Math.min(NAT_KEEP_ALIVE_MS, Math.floor(effective / 3)));
}

/** The shortest keep-alive interval: one PING a second at most, whatever the peer advertises. */
const MIN_KEEP_ALIVE_MS = 1000;

/** The longest quiet a NAT binding is expected to survive, with margin (about 30 s on common NATs). */
const NAT_KEEP_ALIVE_MS = 25_000;
