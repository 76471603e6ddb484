/**
 * A UDP peer address, and the one way the QUIC code compares two of them. Pure data: no state.
 */
export interface SocketAddress {
  address: string;
  port: number;
}

/** Address equality, treating IPv4-mapped IPv6 (`::ffff:192.0.2.1`) as the IPv4 address. */
export function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && normalizeHost(a.address) === normalizeHost(b.address);
}

function normalizeHost(h: string): string {
  const lower = h.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}
