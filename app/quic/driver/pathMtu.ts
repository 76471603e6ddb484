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
 * reads sysfs once, and a change (an interface's MTU) is seen soon after.
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
  // Read from a snapshot of the routing table: no process per peer address.
  const route = await routeMtu(remote.address);
  return route === null ? ceiling : Math.min(ceiling, udpPayloadFor(route, family));
}

/** One route of `ip -o route show`: where it leads, in which table, and its `mtu` attribute. */
export interface Route {
  family: 4 | 6;
  /** The destination network ("default" is the whole address space). */
  network: string;
  prefixLength: number;
  table: string;
  mtu: number | null;
}

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'anycast',
  'unreachable',
  'blackhole',
  'prohibit',
  'throw',
  'nat',
]);

/**
 * Parses the output of `ip -o -4|-6 route show table all` and `... route show cache` (one route
 * a line; cached entries are host routes carrying the path MTU the kernel learned from ICMP).
 * Lines it does not understand are skipped.
 */
export function parseRoutes(text: string, family: 4 | 6): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n')) {
    const words = line.replace(/\\/g, ' ').trim().split(/\s+/);
    if (ROUTE_TYPES.has(words[0] ?? '')) words.shift();
    const dest = words[0];
    if (!dest) continue;
    let network: string;
    let prefixLength: number;
    if (dest === 'default') {
      network = family === 6 ? '::' : '0.0.0.0';
      prefixLength = 0;
    } else {
      const [net, len] = dest.split('/');
      if (!net || isIP(net) !== family) continue;
      network = net;
      prefixLength = len === undefined ? (family === 6 ? 128 : 32) : Number(len);
      if (!Number.isInteger(prefixLength)) continue;
    }
    const tableAt = words.indexOf('table');
    const table = tableAt > 0 ? (words[tableAt + 1] ?? 'main') : 'main';
    let mtu: number | null = null;
    const mtuAt = words.indexOf('mtu');
    if (mtuAt > 0) {
      const value = Number(words[mtuAt + 1] === 'lock' ? words[mtuAt + 2] : words[mtuAt + 1]);
      if (Number.isInteger(value) && value >= 1280) mtu = value;
    }
    routes.push({ family, network, prefixLength, table, mtu });
  }
  return routes;
}

/**
 * The MTU the routes impose on the path to `address`, or null (no `mtu` on the routes it takes).
 * Without the policy rules, every table's most specific route to the address is taken and the
 * narrowest of their MTUs wins: at worst a lower ceiling than `ip route get` would give (path
 * MTU discovery stops lower), never a higher one.
 */
export function routeMtuIn(routes: readonly Route[], address: string): number | null {
  const host = address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const family = isIP(host);
  if (family === 0) return null;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const best = new Map<string, Route>();
  for (const r of routes) {
    if (r.family !== family) continue;
    const current = best.get(r.table);
    if (current && current.prefixLength >= r.prefixLength) continue;
    const list = new BlockList();
    list.addSubnet(r.network, r.prefixLength, type);
    if (list.check(host, type)) best.set(r.table, r);
  }
  let mtu: number | null = null;
  for (const r of best.values()) if (r.mtu !== null) mtu = mtu === null ? r.mtu : Math.min(mtu, r.mtu);
  return mtu;
}

/** Runs `ip` once for a family's whole routing state (all tables, and the learned path MTUs). */
function readRoutes(family: 4 | 6): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('ip', ['-o', `-${family}`, '-batch', '-'], { timeout: 1000 }, (err, stdout) => {
      // No iproute2 (another system, a sandbox): no route limits the path; interfaces still do.
      resolve(err ? '' : stdout);
    });
    child.stdin?.end('route show table all\nroute show cache\n');
  });
}

/**
 * A route-MTU lookup over snapshots of the routing table, each good for `ttlMs`: however many
 * peers there are (a server's clients, spoofed addresses), `read` runs at most once per family
 * per `ttlMs`, never once per address; a change (a VPN coming up) is seen soon after.
 */
export function routeMtuLookup(
  read: (family: 4 | 6) => Promise<string>,
  ttlMs: number,
  clock: () => number = () => performance.now(),
): (address: string) => Promise<number | null> {
  const snapshots = new Map<4 | 6, { routes: Promise<Route[]>; until: number }>();
  return (address) => {
    const host = address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    const family = isIP(host);
    if (family === 0) return Promise.resolve(null);
    const f = family === 6 ? 6 : 4;
    const now = clock();
    let snap = snapshots.get(f);
    if (!snap || snap.until <= now) {
      snap = { routes: read(f).then((text) => parseRoutes(text, f)), until: now + ttlMs };
      snapshots.set(f, snap);
    }
    return snap.routes.then((routes) => routeMtuIn(routes, host));
  };
}

/**
 * Linux: the MTU the routing table sets for the path to `address` (a route's `mtu` attribute, or
 * the path MTU the kernel learned from ICMP), or null (no such limit, no iproute2, another system).
 */
export const routeMtu: (address: string) => Promise<number | null> = routeMtuLookup(readRoutes, 2_000);

const interfaceCeiling = memo(10_000, (key) => {
  const [source, family] = key.split('/') as [string, string];
  const mtu = (source === '' ? null : interfaceMtu(source)) ?? ETHERNET_MTU;
  return udpPayloadFor(mtu, family === '6' ? 6 : 4);
});

/** The ceiling from the interface that owns `source` alone (no route lookup); sysfs, cached. */
export function ceilingFrom(source: string | null, family: 4 | 6): number {
  return interfaceCeiling(`${source ?? ''}/${family}`);
}
