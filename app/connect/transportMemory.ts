/**
 * Transport memory: whether XMPP over QUIC worked the last time on this network for this domain
 * (issue 11: "The outcome is remembered per network and domain, so a network that blocks UDP does
 * not pay the head start every time").
 *
 * What identifies "a network" (`networkKey`): the default-route interfaces' address prefixes (IPv4
 * masked to the interface's prefix length, IPv6 to at most /64, since privacy addresses rotate the
 * interface identifier) and the default gateways, sorted and hashed with SHA-256 (salted, if the
 * caller gives a salt). Interface names are left out: the same Wi-Fi reached through another
 * adapter is the same network. Never stored raw: only the hash reaches the database. Limits, all
 * harmless because the memory only decides whether QUIC gets a head start:
 * - networks that look alike (two cafés with 192.168.1.0/24 behind 192.168.1.1 and no IPv6) share
 *   one memory: a failure learnt in one costs the other its head start, never a connection;
 * - a network whose prefix changes (a new IPv6 prefix from the ISP, a /32 per cellular session)
 *   looks new: it pays the head start once more;
 * - without a salt the hash of a private prefix can be found by trying them all: it keeps
 *   addresses out of plain sight in the database, no more. A per-profile random salt closes that.
 *
 * The advice: `'quic-first'` (the normal path: QUIC candidates get their head start, then TCP) or
 * `'tcp-first'`: QUIC failed here for this domain within `failureMemoryMs` (default 24 h), so the
 * TCP candidates start at once, and QUIC is still tried in parallel, without a head start (the
 * first verified stream wins). In parallel rather than later: on a network that blocks UDP it costs
 * a few unanswered packets, and on one that was fixed QUIC wins and its success is recorded at
 * once instead of a day later. A success (`'quic-ok'`) replaces the failure; a failure older than
 * `failureMemoryMs` is ignored, so QUIC gets its head start again.
 *
 * What the caller records: `'quic-ok'` when a QUIC candidate produced a verified XMPP stream;
 * `'quic-failed'` when no QUIC candidate did by the end of its head start (or all of them failed).
 * An outcome older than the stored one is ignored (attempts in parallel finish out of order).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TransportOutcome, TransportOutcomeEntry } from '../storage/transportMemory.ts';
import type { NetworkSnapshot } from './networkMonitor.ts';

export type { TransportOutcome };
export type TransportAdvice = 'quic-first' | 'tcp-first';

/** How long a QUIC failure counts: a day, then QUIC gets its head start again. */
export const QUIC_FAILURE_MEMORY_MS = 24 * 60 * 60 * 1000;

/** The part of `Storage` the memory needs (app/storage/transportMemory.ts provides it). */
export interface TransportMemoryStore {
  getTransportOutcome(networkKey: string, domain: string): TransportOutcomeEntry | null;
  recordTransportOutcome(entry: TransportOutcomeEntry): void;
}

export interface TransportMemoryOptions {
  /** Default QUIC_FAILURE_MEMORY_MS. */
  failureMemoryMs?: number;
  /**
   * Told when the store fails (disk full, database closed). The memory is an optimisation: a read
   * that fails advises `'quic-first'`, a write that fails is dropped, and the connection goes on.
   */
  onStoreError?: (error: unknown) => void;
}

/** The settings key of the profile's salt for `networkKey`. */
const SALT_SETTING = 'networkKeySalt';

/**
 * The profile's random salt for `networkKey`, made on first use and kept in its settings, so the
 * stored hashes cannot be matched against a list of common prefixes.
 */
export function profileSalt(settings: {
  getSetting(key: string): unknown;
  setSetting(key: string, value: string): void;
}): string {
  const stored = settings.getSetting(SALT_SETTING);
  if (typeof stored === 'string' && /^[0-9a-f]{32}$/.test(stored)) return stored;
  const salt = randomBytes(16).toString('hex');
  settings.setSetting(SALT_SETTING, salt);
  return salt;
}

/**
 * The key naming the network `snapshot` describes, or null when it says no network (no default
 * route, or no usable address on the default-route interfaces): nothing is remembered then.
 * `salt`: mixed into the hash (see the header); the same salt must be passed every time.
 */
export function networkKey(snapshot: NetworkSnapshot, salt = ''): string | null {
  const routed = new Set(snapshot.defaultRouteInterfaces);
  const facts = new Set<string>();
  for (const address of snapshot.addresses) {
    if (!routed.has(address.ifname)) continue;
    const prefix = networkPrefix(address.family, address.address, address.prefixLength);
    if (prefix !== null) facts.add(`net ${prefix}`);
  }
  if (facts.size === 0) return null;
  for (const gateway of snapshot.defaultGateways ?? []) facts.add(`gw ${gateway.replace(/%.*$/, '').toLowerCase()}`);
  const text = [...facts].sort().join('\n');
  return createHash('sha256').update(`quiver-network-v1\n${salt}\n${text}`).digest('hex').slice(0, 32);
}

/**
 * Whether to give QUIC its head start, remembered per network and domain. Obligations: call
 * `advice` before starting a domain's candidates, and `record` once that attempt knows how QUIC did.
 */
export class TransportMemory {
  private readonly store: TransportMemoryStore;
  private readonly options: TransportMemoryOptions;
  private readonly failureMemoryMs: number;

  constructor(store: TransportMemoryStore, options: TransportMemoryOptions = {}) {
    this.store = store;
    this.options = options;
    this.failureMemoryMs = options.failureMemoryMs ?? QUIC_FAILURE_MEMORY_MS;
  }

  /** `'tcp-first'` only when QUIC's latest outcome here is a failure younger than `failureMemoryMs`. */
  advice(network: string | null, domain: string, now: number): TransportAdvice {
    if (network === null) return 'quic-first';
    const entry = this.read(network, domain);
    if (entry === null || entry.outcome === 'quic-ok') return 'quic-first';
    const age = now - entry.at;
    // A clock that went back (age < 0) is not trusted to keep QUIC waiting: QUIC gets its chance.
    return age >= 0 && age < this.failureMemoryMs ? 'tcp-first' : 'quic-first';
  }

  /** Remembers how QUIC did; an outcome older than the one stored is ignored. */
  record(network: string | null, domain: string, outcome: TransportOutcome, at: number): void {
    if (network === null) return;
    const key = domainKey(domain);
    const earlier = this.read(network, key);
    if (earlier !== null && earlier.at > at) return;
    try {
      this.store.recordTransportOutcome({ networkKey: network, domain: key, outcome, at });
    } catch (error) {
      this.options.onStoreError?.(error);
    }
  }

  private read(network: string, domain: string): TransportOutcomeEntry | null {
    try {
      return this.store.getTransportOutcome(network, domainKey(domain));
    } catch (error) {
      this.options.onStoreError?.(error);
      return null;
    }
  }
}

function domainKey(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

/**
 * The network part of an address as text (`192.168.1.0/24`, `2001:db8:1:2::/64`), or null for text
 * that is not an address. Unknown prefix lengths: IPv4 /24, IPv6 /64.
 */
export function networkPrefix(family: 'IPv4' | 'IPv6', address: string, prefixLength?: number): string | null {
  const bytes = family === 'IPv4' ? parseIPv4(address) : parseIPv6(address.replace(/%.*$/, ''));
  if (bytes === null) return null;
  const bits = bytes.length * 8;
  const wanted = family === 'IPv4' ? (prefixLength ?? 24) : Math.min(prefixLength ?? 64, 64);
  const length = Number.isInteger(wanted) ? Math.max(0, Math.min(wanted, bits)) : bits;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  const text =
    family === 'IPv4'
      ? bytes.join('.')
      : Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':');
  return `${text}/${length}`;
}

function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.map(Number);
}

function parseIPv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIPv4(part);
        if (v4 === null) return null;
        out.push(v4[0]!, v4[1]!, v4[2]!, v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
        const n = parseInt(part, 16);
        out.push(n >> 8, n & 0xff);
      } else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 16 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 2) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
