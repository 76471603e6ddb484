/**
 * XEP-0368 §3: the client looks up `_xmpps-client._tcp` and `_xmpp-client._tcp` and "SHOULD then
 * try each record in order of priority and weight as defined in RFC 2782 regardless of service type".
 * This module is that order, as a pure function of the answers and an injectable random source;
 * `_xmppq-client._udp` (QUIC) answers and XEP-0487 links join the same list (`orderCandidates`).
 */
import type { CandidateSource, DnssecStatus, Transport } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';

export interface SrvRecordLike {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** One SRV lookup's answer, tagged with what it means for the connection. */
export interface SrvAnswer {
  /** The owner name queried, e.g. `_xmpps-client._tcp.example.org`. */
  name: string;
  source: Extract<CandidateSource, `srv:${string}`>;
  transport: Transport;
  dnssec: DnssecStatus;
  records: SrvRecordLike[];
}

/** RFC 2782 bounds a sane answer; more than this is a hostile or broken zone and is cut. */
export const MAX_SRV_RECORDS_PER_ANSWER = 32;
const MAX_NAME_LENGTH = 253;

export interface OrderedCandidates {
  candidates: Candidate[];
  /** Services whose answer was the single record with target "." (RFC 2782: "decidedly not available"). */
  declined: CandidateSource[];
}

/**
 * Orders SRV answers into one candidate list: ascending priority; within a priority, RFC 2782's
 * weighted random selection. `random` returns a number in [0, 1).
 *
 * RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in any order, except that all
 * those with weight 0 are placed at the beginning of the list. Compute the sum of the weights ...
 * choose a uniform random number between 0 and the sum computed (inclusive), and select the RR
 * whose running sum value is the first in the selected order which is greater than or equal to
 * the random number selected."
 */
export function orderSrvCandidates(answers: readonly SrvAnswer[], random: () => number): OrderedCandidates {
  return orderCandidates(answers, [], random);
}

/**
 * One list from every source (XEP-0368 §3: "try each record in order of priority and weight as
 * defined in RFC 2782 regardless of service type"): the SRV answers and the candidates of other
 * sources (Host Meta 2 links, which XEP-0487 §3 says to "use as defined in RFC 2782") are pooled and
 * ordered together. A pure function of its arguments.
 *
 * The same transport, host and port offered twice is one candidate: the SRV one is kept (answers
 * first, in the order given), and a Host Meta 2 link for it adds its `sni` and `ips`, since the
 * HTTPS-verified document delegating the domain to that name is a fact the verifier may use.
 */
export function orderCandidates(
  answers: readonly SrvAnswer[],
  others: readonly Candidate[],
  random: () => number,
): OrderedCandidates {
  const declined: CandidateSource[] = [];
  const pool: Candidate[] = [];
  const seen = new Map<string, Candidate>();
  for (const answer of answers) {
    const records = answer.records.slice(0, MAX_SRV_RECORDS_PER_ANSWER);
    if (records.length === 1 && isRootTarget(records[0]!.target)) {
      declined.push(answer.source);
      continue;
    }
    for (const record of records) {
      const host = normalizeTarget(record.target);
      if (host === null || !validNumbers(record)) continue;
      // The same host and port offered twice for one transport is one candidate (the first wins).
      const key = `${answer.transport} ${host} ${record.port}`;
      if (seen.has(key)) continue;
      const candidate: Candidate = {
        transport: answer.transport,
        host,
        port: record.port,
        priority: record.priority,
        weight: record.weight,
        source: answer.source,
        dnssec: answer.dnssec,
        record: `${answer.name}. ${record.priority} ${record.weight} ${record.port} ${host}.`,
      };
      seen.set(key, candidate);
      pool.push(candidate);
    }
  }
  for (const other of others.slice(0, MAX_SRV_RECORDS_PER_ANSWER)) {
    const host = normalizeTarget(other.host);
    if (host === null || !validNumbers(other)) continue;
    const key = `${other.transport} ${host} ${other.port}`;
    const earlier = seen.get(key);
    if (earlier) {
      if (other.hostMetaSni && !earlier.hostMetaSni) earlier.hostMetaSni = other.hostMetaSni;
      if (other.ips && !earlier.ips) earlier.ips = [...other.ips];
      continue;
    }
    const candidate: Candidate = { ...other, host };
    seen.set(key, candidate);
    pool.push(candidate);
  }
  return { candidates: weightedOrder(pool, random), declined };
}

/**
 * Whether `orderCandidates` would make at least one candidate of `answer`: a record with a valid
 * target other than "." and valid numbers. Discovery uses it to decide whether SRV has spoken.
 */
export function hasUsableRecord(answer: SrvAnswer): boolean {
  return answer.records
    .slice(0, MAX_SRV_RECORDS_PER_ANSWER)
    .some((record) => normalizeTarget(record.target) !== null && validNumbers(record));
}

/** Sorts by priority, then applies RFC 2782 weighted selection within each priority. */
export function weightedOrder<T extends { priority: number; weight: number }>(
  items: readonly T[],
  random: () => number,
): T[] {
  const byPriority = new Map<number, T[]>();
  for (const item of items) {
    const group = byPriority.get(item.priority) ?? [];
    group.push(item);
    byPriority.set(item.priority, group);
  }
  const out: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Weight 0 first, the rest in the order given (the RFC allows any order).
    const remaining = [...byPriority.get(priority)!].sort((a, b) => Number(a.weight !== 0) - Number(b.weight !== 0));
    while (remaining.length > 0) {
      const sum = remaining.reduce((total, item) => total + item.weight, 0);
      // Uniform in [0, sum] inclusive, as the RFC says; with all weights 0 this picks the first.
      const pick = Math.min(sum, Math.floor(random() * (sum + 1)));
      let running = 0;
      let index = remaining.length - 1;
      for (let i = 0; i < remaining.length; i++) {
        running += remaining[i]!.weight;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(remaining.splice(index, 1)[0]!);
    }
  }
  return out;
}

function isRootTarget(target: string): boolean {
  return target === '.' || target === '';
}

function normalizeTarget(target: string): string | null {
  const name = target.endsWith('.') ? target.slice(0, -1) : target;
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return null;
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.split('.').some((label) => label.length === 0 || label.length > 63))
    return null;
  return name.toLowerCase();
}

function validNumbers(record: Pick<SrvRecordLike, 'priority' | 'weight' | 'port'>): boolean {
  const u16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  return u16(record.priority) && u16(record.weight) && u16(record.port) && record.port !== 0;
}
