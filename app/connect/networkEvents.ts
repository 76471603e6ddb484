/**
 * Parses one line of `ip -o monitor address route link` (iproute2, Linux) into the network event
 * it reports, or null for a line that says nothing the connection manager acts on: routes other
 * than a default route (local, broadcast, multicast, prefix routes), timestamps, and anything
 * unrecognised. Pure: no I/O, no clock. A hostile or malformed line yields null; this function
 * never throws. The driver is `networkMonitor.ts`.
 *
 * Formats recognised (iproute2 6.x with `-o`, where a record's continuation lines are joined by
 * a backslash); an optional leading "Deleted " marks a removal, an optional "[LINK]" / "[ADDR]" /
 * "[ROUTE]" label (`ip monitor label`) is skipped:
 *   address  `3: va    inet 10.77.0.2/24 brd 10.77.0.255 scope global va\       valid_lft ...`
 *   link     `3: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP ...`
 *   route    `default via 10.77.0.1 dev va`, `default via fe80::1 dev wlan0 proto ra metric 1024 pref medium`
 */

/** Longer lines are not something iproute2 prints for these objects; they are dropped unread. */
export const MAX_LINE_LENGTH = 4096;

export type AddressFamily = 'inet' | 'inet6';

export type NetworkEvent =
  | {
      kind: 'address';
      action: 'added' | 'deleted';
      ifindex: number;
      ifname: string;
      family: AddressFamily;
      /** The local address, without the prefix length. */
      address: string;
      prefixLength: number;
      /** `global`, `link`, `host`, `site` or a number, as printed. */
      scope: string;
    }
  | {
      kind: 'link';
      action: 'changed' | 'deleted';
      ifindex: number;
      ifname: string;
      /** Administratively up with a carrier (flags UP and LOWER_UP). */
      up: boolean;
      flags: string[];
      /** The operational state (`UP`, `DOWN`, `LOWERLAYERDOWN`, `UNKNOWN` ...), or null when not printed. */
      state: string | null;
    }
  | {
      kind: 'default-route';
      action: 'added' | 'deleted';
      family: AddressFamily;
      /** The next hop, or null for a device route (`default dev wg0`). */
      gateway: string | null;
      /** The outgoing interface, or null when not printed. */
      dev: string | null;
      /** The routing table when not `main` (policy routing, e.g. a VPN's table), else null. */
      table: string | null;
    };

// Interface names: at most 15 bytes (IFNAMSIZ 16) and no whitespace, '/', ':' or '@' in what
// iproute2 prints; a little slack for the altname-free forms.
const IFNAME = '[^\\s/:@]{1,32}';
const LINK_RE = new RegExp(`^(\\d{1,10}): (${IFNAME})(?:@${IFNAME})?: <([A-Za-z0-9_,-]*)>(.*)$`);
const ADDRESS_RE = new RegExp(`^(\\d{1,10}): (${IFNAME})\\s+(inet6?) (\\S+)(.*)$`);
const LABEL_RE = /^\[(?:LINK|ADDR|ROUTE)\]\s*/;
const ROUTE_KEYWORDS_WITH_VALUE = new Set(['via', 'dev', 'table', 'proto', 'metric', 'src', 'scope', 'pref']);

/** See the module comment. Never throws. */
export function parseIpMonitorLine(line: string): NetworkEvent | null {
  if (typeof line !== 'string' || line.length === 0 || line.length > MAX_LINE_LENGTH) return null;
  // With -o, iproute2 joins a record's lines with '\' and spaces; only the first part matters.
  let text = line.split('\\')[0]!.trim();
  text = text.replace(LABEL_RE, '');
  let deleted = false;
  if (text.startsWith('Deleted ')) {
    deleted = true;
    text = text.slice('Deleted '.length).trimStart();
  }
  if (text.startsWith('default ') || text === 'default') return parseDefaultRoute(text, deleted);
  const link = LINK_RE.exec(text);
  if (link) return parseLink(link, deleted);
  const address = ADDRESS_RE.exec(text);
  if (address) return parseAddress(address, deleted);
  return null;
}

function parseLink(m: RegExpExecArray, deleted: boolean): NetworkEvent | null {
  const ifindex = Number(m[1]);
  if (!Number.isSafeInteger(ifindex)) return null;
  const flags = m[3]!.split(',').filter((f) => f.length > 0);
  const state = / state (\S+)/.exec(m[4]!)?.[1] ?? null;
  return {
    kind: 'link',
    action: deleted ? 'deleted' : 'changed',
    ifindex,
    ifname: m[2]!,
    up: !deleted && flags.includes('UP') && flags.includes('LOWER_UP'),
    flags,
    state,
  };
}

function parseAddress(m: RegExpExecArray, deleted: boolean): NetworkEvent | null {
  const ifindex = Number(m[1]);
  if (!Number.isSafeInteger(ifindex)) return null;
  const family = m[3] as AddressFamily;
  const rest = m[5]!;
  // An IPv4 point-to-point address prints `inet 10.0.0.1 peer 10.0.0.2/32`: the prefix is the peer's.
  let cidr = m[4]!;
  const peer = / peer (\S+)/.exec(rest);
  if (peer && !cidr.includes('/')) cidr = `${cidr}/${peer[1]!.split('/')[1] ?? ''}`;
  const slash = cidr.indexOf('/');
  const address = slash === -1 ? cidr : cidr.slice(0, slash);
  const maxPrefix = family === 'inet' ? 32 : 128;
  const prefixText = slash === -1 ? '' : cidr.slice(slash + 1);
  const prefixLength = prefixText === '' ? maxPrefix : Number(prefixText);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > maxPrefix) return null;
  if (!looksLikeAddress(address, family)) return null;
  const scope = / scope (\S+)/.exec(rest)?.[1] ?? 'global';
  return {
    kind: 'address',
    action: deleted ? 'deleted' : 'added',
    ifindex,
    ifname: m[2]!,
    family,
    address,
    prefixLength,
    scope,
  };
}

function parseDefaultRoute(text: string, deleted: boolean): NetworkEvent | null {
  const words = text.split(/\s+/);
  const values = new Map<string, string>();
  // `via inet6 fe80::1`: an IPv4 route through an IPv6 next hop (RFC 8950) names the next hop's family.
  let crossFamily = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'via' && (words[i + 1] === 'inet' || words[i + 1] === 'inet6')) {
      crossFamily = true;
      i++;
    }
    if (ROUTE_KEYWORDS_WITH_VALUE.has(w) && i + 1 < words.length && !values.has(w)) values.set(w, words[++i]!);
  }
  const via = values.get('via') ?? null;
  if (via !== null && !looksLikeAddress(via, via.includes(':') ? 'inet6' : 'inet')) return null;
  // A default route names a next hop or a device; a line with neither is not one iproute2 prints.
  if (via === null && !values.has('dev')) return null;
  // IPv6 routes always print a `pref`; an IPv4 device route (`default dev wg0`) prints none.
  const v6 = !crossFamily && (via?.includes(':') === true || values.has('pref'));
  const family: AddressFamily = v6 ? 'inet6' : 'inet';
  const table = values.get('table') ?? null;
  return {
    kind: 'default-route',
    action: deleted ? 'deleted' : 'added',
    family,
    gateway: via,
    dev: values.get('dev') ?? null,
    table: table === 'main' ? null : table,
  };
}

function looksLikeAddress(text: string, family: AddressFamily): boolean {
  if (text.length > 64) return false;
  return family === 'inet' ? /^\d{1,3}(\.\d{1,3}){3}$/.test(text) : /^[0-9a-fA-F:.]+$/.test(text) && text.includes(':');
}
