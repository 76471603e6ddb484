/**
 * A TTL-respecting cache in front of a DnsClient (RFC 1035 §3.2.1: TTL is "the time interval that
 * the resource record may be cached before the source of the information should again be
 * consulted"). Positive answers live for their smallest TTL, capped; negative answers (NXDOMAIN, or
 * no records) for the RFC 2308 §5 SOA value, capped, and not at all without an SOA ("Negative
 * responses without SOA records SHOULD NOT be cached"). Failures (SERVFAIL, bogus, timeouts) are
 * never cached: the next attempt asks again.
 *
 * The clock is the caller's (`now`), so the expiry is tested without waiting.
 */
import type { DnsAnswer, DnsClient, DnsQueryType } from './dnsClient.ts';

export interface DnsCacheOptions {
  /** Milliseconds since the epoch: the system clock in the app, a fake clock in tests. */
  now: () => number;
  /** Cap on a positive answer's lifetime, seconds. Default 3600. */
  maxTtlSeconds?: number;
  /** Cap on a negative answer's lifetime, seconds (RFC 2308 §5 suggests 1-3 hours at most). Default 900. */
  maxNegativeTtlSeconds?: number;
  /** Entries kept; the oldest is dropped first. Default 512. */
  maxEntries?: number;
}

export const DEFAULT_MAX_TTL_SECONDS = 3600;
export const DEFAULT_MAX_NEGATIVE_TTL_SECONDS = 900;
const DEFAULT_MAX_ENTRIES = 512;

interface Entry {
  answer: DnsAnswer;
  storedAt: number;
  expiresAt: number;
}

/**
 * Wraps `inner` with a cache. The same DnsClient shape, so it drops in wherever one is used.
 * Concurrent identical questions share one query.
 */
export function createCachingDnsClient(inner: DnsClient, options: DnsCacheOptions): DnsClient {
  const now = options.now;
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  const maxNegativeTtl = options.maxNegativeTtlSeconds ?? DEFAULT_MAX_NEGATIVE_TTL_SECONDS;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<DnsAnswer>>();

  async function query(name: string, type: DnsQueryType): Promise<DnsAnswer> {
    const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`;
    const at = now();
    const hit = entries.get(key);
    if (hit && hit.expiresAt > at) return aged(hit, at);
    if (hit) entries.delete(key);
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const asked = (inner.query(name, type) as Promise<DnsAnswer>).then((answer) => {
      const lifetime = cacheLifetime(answer, maxTtl, maxNegativeTtl);
      if (lifetime > 0) {
        const storedAt = now();
        entries.set(key, { answer, storedAt, expiresAt: storedAt + lifetime * 1000 });
        while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return answer;
    });
    pending.set(key, asked);
    try {
      return await asked;
    } finally {
      pending.delete(key);
    }
  }

  return {
    server: inner.server,
    trustAd: inner.trustAd,
    query: query as DnsClient['query'],
    srv: (name) => query(name, 'SRV') as ReturnType<DnsClient['srv']>,
  };
}

/** Seconds an answer may be kept: 0 for anything that must be asked again. */
export function cacheLifetime(answer: DnsAnswer, maxTtl: number, maxNegativeTtl: number): number {
  if (answer.dnssec === 'bogus') return 0;
  if (answer.rcode !== 'NOERROR' && answer.rcode !== 'NXDOMAIN') return 0;
  if (answer.records.length > 0) return Math.max(0, Math.min(answer.ttl ?? 0, maxTtl));
  return Math.max(0, Math.min(answer.negativeTtl ?? 0, maxNegativeTtl));
}

/** The cached answer with its TTLs counted down, as a resolver's cache reports them. */
function aged(entry: Entry, at: number): DnsAnswer {
  const elapsed = Math.floor((at - entry.storedAt) / 1000);
  const answer = entry.answer;
  const down = (ttl: number | null | undefined) =>
    typeof ttl === 'number' ? Math.max(0, ttl - elapsed) : (ttl ?? null);
  return {
    ...answer,
    records: answer.records.map((record) =>
      typeof record === 'object' && 'ttl' in record ? { ...record, ttl: down(record.ttl) as number } : record,
    ),
    ttl: down(answer.ttl),
    negativeTtl: down(answer.negativeTtl),
  };
}
