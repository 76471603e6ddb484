/**
 * DNS messages for the DNS client, without sockets: build a query, check and decode a response.
 * Wire format by dns-packet (RFC 1035 §4); what this file adds is the paranoia a resolver owes its
 * caller (RFC 5452 §9.1: accept an answer only if it matches the question, the ID and the address it
 * was sent to) and the EDNS DO bit (RFC 3225 §3) without which a validating resolver never sets AD.
 */
import * as dnsPacket from 'dns-packet';
import { recordLayoutProblem } from './dnsRecordLayout.ts';
import { isIPv4, isIPv6 } from '../contract/ipLiteral.ts';
import { SecurityError } from './securityError.ts';

export type DnsQueryType = 'SRV' | 'A' | 'AAAA' | 'TLSA' | 'CNAME' | 'TXT';

/** RFC 1035 §4.1.1 and RFC 6895 §2.3 names; anything else as `RCODE<n>`. */
export type DnsRcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED' | `RCODE${number}`;

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  /** Without the trailing dot; `.` for the root ("service decidedly not available", RFC 2782). */
  target: string;
  ttl: number;
}

/** RFC 6698 §2.1 TLSA RDATA. */
export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: Uint8Array;
  ttl: number;
}

/** What a record of each query type decodes to: A/AAAA/CNAME/TXT as text (TXT strings concatenated). */
export type DnsRecordFor<T extends DnsQueryType> = T extends 'SRV' ? SrvRecord : T extends 'TLSA' ? TlsaRecord : string;
export type DnsRecord = SrvRecord | TlsaRecord | string;

export interface DecodedAnswer<T extends DnsQueryType = DnsQueryType> {
  kind: 'answer';
  rcode: DnsRcode;
  truncated: boolean;
  /** The AD bit (RFC 4035 §3.2.3). Meaningful only from a validating resolver the client trusts. */
  authenticData: boolean;
  records: DnsRecordFor<T>[];
  /** Smallest TTL among the records returned and the CNAMEs that led to them, null when no records. */
  ttl: number | null;
  /**
   * Where the CNAME chain inside the answer ended (the name asked for when there was none). When
   * it differs from the question and `records` is empty, the resolver did not follow the chain to
   * its end and the caller may ask for this name.
   */
  canonicalName: string;
  /** How many CNAMEs were followed. */
  cnameHops: number;
  /**
   * RFC 2308 §5: how long a negative answer (NXDOMAIN, or NOERROR without records) may be cached:
   * "the minimum of the MINIMUM field of the SOA record and the TTL of the SOA itself". Null when
   * there are records, or no SOA in the authority section (then it must not be cached, §5).
   */
  negativeTtl: number | null;
}

/** A datagram that is not the answer to our question: wrong ID, not a response, other question. */
export interface Unrelated {
  kind: 'unrelated';
  reason: string;
}

/** EDNS UDP payload size (the DNS Flag Day 2020 value): larger answers come truncated, then over TCP. */
export const EDNS_UDP_SIZE = 1232;
/** More records than this in one message is absurd for the names Quiver asks about. */
export const MAX_RECORDS_PER_SECTION = 256;
/** CNAME chains longer than this are refused (RFC 1034 §3.6.2 warns of loops; RFC 1034 §5.3.3 asks resolvers to bound the work). */
export const MAX_CNAME_HOPS = 8;
const HEADER_BYTES = 12;

const RCODES: Record<number, DnsRcode> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

/**
 * Lower-case, no trailing dot, RFC 1035 §2.3.4 sizes (labels ≤ 63 octets, name ≤ 253 characters).
 * @throws SecurityError `dns-bad-name`
 */
export function normalizeQueryName(name: string): string {
  const trimmed = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  const labels = trimmed.split('.');
  if (
    trimmed.length === 0 ||
    trimmed.length > 253 ||
    labels.some((label) => label.length === 0 || label.length > 63) ||
    /[^\x21-\x7e]/.test(trimmed)
  ) {
    throw new SecurityError('dns-bad-name', `"${name}" is not a valid DNS name.`);
  }
  return trimmed;
}

/** A recursive query (RD) with EDNS0 and DO set, CD clear: the resolver validates for us. */
export function encodeQuery(name: string, type: DnsQueryType, id: number): Uint8Array {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name: normalizeQueryName(name), class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: EDNS_UDP_SIZE,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });
}

/**
 * Checks and decodes one received message against the question we sent.
 * @returns `unrelated` for a message that is not our answer (drop it and keep waiting)
 * @throws SecurityError `dns-malformed` for our answer (right ID and question) that cannot be decoded or is absurd
 */
export function decodeResponse<T extends DnsQueryType>(
  bytes: Uint8Array,
  expected: { id: number; name: string; type: T },
): DecodedAnswer<T> | Unrelated {
  if (bytes.byteLength < HEADER_BYTES)
    return { kind: 'unrelated', reason: `${bytes.byteLength}-byte message is shorter than a DNS header` };
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = buffer.readUInt16BE(0);
  const flags = buffer.readUInt16BE(2);
  if (id !== expected.id) return { kind: 'unrelated', reason: `ID ${id} is not the ID ${expected.id} we sent` };
  if ((flags & 0x8000) === 0) return { kind: 'unrelated', reason: 'the message is a query, not a response' };
  const counts = [4, 6, 8, 10].map((offset) => buffer.readUInt16BE(offset));
  if (counts[0] !== 1) return { kind: 'unrelated', reason: `the response carries ${counts[0]} questions, not our one` };
  if (counts.slice(1).some((count) => count > MAX_RECORDS_PER_SECTION)) {
    throw new SecurityError(
      'dns-malformed',
      `The DNS server's answer for ${expected.name} claims an absurd number of records (${counts.slice(1).join('/')}).`,
    );
  }

  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(buffer);
  } catch (error) {
    // The question may be what failed to decode: then it was not provably ours, but the ID and
    // address matched, so it is far more likely a broken server than a spoof.
    throw new SecurityError(
      'dns-malformed',
      `The DNS server's answer for ${expected.name} could not be decoded: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const question = packet.questions?.[0];
  const wanted = normalizeQueryName(expected.name);
  if (
    !question ||
    question.name.toLowerCase().replace(/\.$/, '') !== wanted ||
    question.type !== expected.type ||
    (question.class ?? 'IN') !== 'IN'
  ) {
    return {
      kind: 'unrelated',
      reason: `the response is for ${question?.name ?? '?'} ${question?.type ?? '?'}, not ${wanted} ${expected.type}`,
    };
  }

  // dns-packet reads each type's fields whatever RDLENGTH says: check the layout before trusting them.
  const problem = recordLayoutProblem(bytes);
  if (problem !== null) {
    throw new SecurityError('dns-malformed', `The DNS server's answer for ${expected.name} is malformed: ${problem}.`);
  }

  const rcode = RCODES[flags & 0x0f] ?? (`RCODE${flags & 0x0f}` as DnsRcode);
  const answers = packet.answers ?? [];
  // Follow CNAMEs inside the answer section from the name we asked for (RFC 1034 §4.3.2 step 3a).
  const owners = new Set([wanted]);
  let current = wanted;
  let chainTtl: number | null = null;
  if (expected.type !== 'CNAME') {
    for (;;) {
      const alias = answers.find(
        (answer): answer is dnsPacket.StringAnswer => answer.type === 'CNAME' && lower(answer.name) === current,
      );
      if (!alias || typeof alias.data !== 'string') break;
      const next = lower(alias.data);
      if (owners.has(next)) {
        throw new SecurityError(
          'dns-malformed',
          `The DNS answer for ${expected.name} is a CNAME loop (${[...owners, next].join(' -> ')}).`,
        );
      }
      if (owners.size > MAX_CNAME_HOPS) {
        throw new SecurityError(
          'dns-malformed',
          `The DNS answer for ${expected.name} is a chain of more than ${MAX_CNAME_HOPS} CNAMEs; Quiver does not follow it.`,
        );
      }
      owners.add(next);
      current = next;
      const aliasTtl = typeof alias.ttl === 'number' ? alias.ttl : 0;
      chainTtl = chainTtl === null ? aliasTtl : Math.min(chainTtl, aliasTtl);
    }
  }
  const records: DnsRecordFor<T>[] = [];
  let ttl: number | null = null;
  for (const answer of answers) {
    if (answer.type !== expected.type || !owners.has(lower(answer.name))) continue;
    const record = convert(answer, expected.type);
    if (record === null)
      throw new SecurityError(
        'dns-malformed',
        `The DNS server's answer for ${expected.name} holds a malformed ${expected.type} record.`,
      );
    records.push(record as DnsRecordFor<T>);
    const recordTtl = 'ttl' in answer && typeof answer.ttl === 'number' ? answer.ttl : 0;
    ttl = ttl === null ? recordTtl : Math.min(ttl, recordTtl);
  }
  if (ttl !== null && chainTtl !== null) ttl = Math.min(ttl, chainTtl);
  let negativeTtl: number | null = null;
  if (records.length === 0) {
    const soa = (packet.authorities ?? []).find((answer): answer is dnsPacket.SoaAnswer => answer.type === 'SOA');
    if (soa && soa.data && typeof soa.data.minimum === 'number')
      negativeTtl = Math.min(typeof soa.ttl === 'number' ? soa.ttl : 0, soa.data.minimum);
  }
  return {
    kind: 'answer',
    rcode,
    truncated: (flags & 0x0200) !== 0,
    authenticData: (flags & 0x0020) !== 0,
    records,
    ttl,
    canonicalName: current,
    cnameHops: owners.size - 1,
    negativeTtl,
  };
}

function convert(answer: dnsPacket.Answer, type: DnsQueryType): DnsRecord | null {
  const ttl = 'ttl' in answer && typeof answer.ttl === 'number' ? answer.ttl : 0;
  switch (type) {
    case 'A':
    case 'AAAA': {
      // Only a literal may reach a connector: anything else would be looked up again elsewhere.
      const data = (answer as dnsPacket.StringAnswer).data;
      return typeof data === 'string' && (type === 'A' ? isIPv4(data) : isIPv6(data)) ? data : null;
    }
    case 'CNAME': {
      const data = (answer as dnsPacket.StringAnswer).data;
      return typeof data === 'string' ? lower(data) : null;
    }
    case 'TXT': {
      const data = (answer as dnsPacket.TxtAnswer).data;
      const parts = Array.isArray(data) ? data : [data];
      return parts.map((part) => (typeof part === 'string' ? part : Buffer.from(part).toString('utf8'))).join('');
    }
    case 'SRV': {
      const data = (answer as dnsPacket.SrvAnswer).data;
      if (!data || typeof data.target !== 'string' || typeof data.port !== 'number') return null;
      return {
        priority: data.priority ?? 0,
        weight: data.weight ?? 0,
        port: data.port,
        target: data.target === '.' ? '.' : lower(data.target),
        ttl,
      };
    }
    case 'TLSA': {
      const data = (answer as dnsPacket.TlsaAnswer).data;
      if (!data || !Buffer.isBuffer(data.certificate)) return null;
      return {
        usage: data.usage,
        selector: data.selector,
        matchingType: data.matchingType,
        data: new Uint8Array(data.certificate),
        ttl,
      };
    }
  }
}

function lower(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
