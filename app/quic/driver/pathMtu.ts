/**
 * The upper bound for path MTU discovery on one path (RFC 8899 §5.1.2: the search never goes
 * above the MTU of the local interface the path leaves by): that MTU less the IP and UDP headers.
 *
 * Node cannot set the Don't Fragment bit, and Linux fragments locally a datagram larger than the
 * outgoing interface's MTU: probing above it would "succeed" through fragmentation, which RFC 9000
 * §14 forbids. Linux tells interface MTUs in /sys/class/net; where that cannot be read (another
 * system, a sandbox) or the interface is not found, Ethernet's 1500 is assumed.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

const ETHERNET_MTU = 1500;
/** RFC 9000 §18.2: the largest max_udp_payload_size. */
export const MAX_UDP_PAYLOAD = 65527;

/** IPv4's 16-bit total length leaves 65535 - 20 - 8 for a UDP payload. */
const MAX_UDP4_PAYLOAD = 65507;

/**
 * The largest UDP payload an interface of `mtu` carries unfragmented (headers: IPv4 20 bytes,
 * IPv6 40, UDP 8), within what an IP packet can hold at all (loopback's MTU of 65536 is more).
 */
export function udpPayloadFor(mtu: number, family: 4 | 6): number {
  return family === 6 ? Math.min(MAX_UDP_PAYLOAD, mtu - 48) : Math.min(MAX_UDP4_PAYLOAD, mtu - 28);
}

function sysfsMtu(name: string): number | null {
  try {
    const mtu = Number.parseInt(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'), 10);
    return Number.isInteger(mtu) && mtu >= 1280 ? mtu : null;
  } catch {
    // No sysfs (not Linux, or not visible here): the caller assumes Ethernet.
    return null;
  }
}

/**
 * The MTU of the interface that owns `localAddress` (an exact address, else the interface whose
 * subnet holds it, as 127.0.0.2 belongs to lo's 127.0.0.0/8), or null when unknown.
 */
export function interfaceMtu(localAddress: string, readMtu: (name: string) => number | null = sysfsMtu): number | null {
  const family = isIP(localAddress);
  if (family === 0) return null;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  let bySubnet: string | null = null;
  let interfaces: ReturnType<typeof networkInterfaces>;
  try {
    interfaces = networkInterfaces();
  } catch {
    // Some sandboxes refuse to list interfaces: unknown, the caller assumes Ethernet.
    return null;
  }
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const a of addresses ?? []) {
      if (a.family !== (family === 6 ? 'IPv6' : 'IPv4')) continue;
      if (a.address === localAddress) return readMtu(name);
      if (bySubnet || !a.cidr) continue;
      const list = new BlockList();
      list.addSubnet(a.address, Number(a.cidr.split('/')[1]), type);
      if (list.check(localAddress, type)) bySubnet = name;
    }
  }
  return bySubnet ? readMtu(bySubnet) : null;
}

/** The local address the system's routing picks to reach `remote` (a connected UDP socket, nothing sent). */
export function sourceAddressFor(remote: { address: string; port: number }): Promise<string | null> {
  const family = isIP(remote.address);
  if (family === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    const s = createSocket(family === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const done = (address: string | null): void => {
      if (settled) return;
      settled = true;
      s.close();
      resolve(address);
    };
    s.on('error', () => done(null));
    try {
      s.connect(remote.port, remote.address, () => done(s.address().address));
    } catch {
      // A port or address connect() refuses (0, say): no route to learn.
      done(null);
    }
  });
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * Remembers what `compute` gave for a key for `ttlMs`: a burst of connections to one server
 * reads sysfs and runs `ip` once, and a change (a VPN coming up) is seen soon after.
 */
function memo<T>(ttlMs: number, compute: (key: string) => T): (key: string) => T {
  const entries = new Map<string, { value: T; until: number }>();
  return (key) => {
    const now = performance.now();
    const hit = entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = compute(key);
    if (entries.size > 256) entries.clear();
    entries.set(key, { value, until: now + ttlMs });
    return value;
  };
}

/**
 * The largest UDP payload worth probing for on the path from `localAddress` (the bound one,
 * possibly a wildcard) to `remote`. Never rejects.
 */
export async function pathCeiling(localAddress: string, remote: { address: string; port: number }): Promise<number> {
  const source = isWildcard(localAddress) ? await sourceAddressFor(remote) : localAddress;
  const family = isIP(remote.address) === 6 ? 6 : 4;
  const ceiling = ceilingFrom(source, family);
  // The route (an `mtu` attribute, or a path MTU the kernel already learned from ICMP) may be
  // narrower than the interface: above it Linux fragments locally and every probe "succeeds".
  const route = await routeMtu(remote.address);
  return route === null ? ceiling : Math.min(ceiling, udpPayloadFor(route, family));
}

/**
 * Linux: the MTU that `ip route get` reports for `address` (a route's `mtu` attribute, or the
 * path MTU the kernel learned from ICMP), or null (no such limit, no iproute2, another system).
 */
export const routeMtu: (address: string) => Promise<number | null> = memo(2_000, (address) => {
  if (isIP(address) === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile('ip', ['-o', 'route', 'get', address], { timeout: 1000 }, (err, stdout) => {
      const m = err ? null : /\bmtu (?:lock )?(\d+)/.exec(stdout);
      const value = m ? Number(m[1]) : NaN;
      resolve(Number.isInteger(value) && value >= 1280 ? value : null);
    });
  });
});

const interfaceCeiling = memo(10_000, (key) => {
  const [source, family] = key.split('/') as [string, string];
  const mtu = (source === '' ? null : interfaceMtu(source)) ?? ETHERNET_MTU;
  return udpPayloadFor(mtu, family === '6' ? 6 : 4);
});

/** The ceiling from the interface that owns `source` alone (no route lookup); sysfs, cached. */
export function ceilingFrom(source: string | null, family: 4 | 6): number {
  return interfaceCeiling(`${source ?? ''}/${family}`);
}
