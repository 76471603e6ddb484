/**
 * The DNS client the verifier and discovery ask, as they see it: answers with their DNSSEC status
 * (a DNSSEC-secured SRV answer is what makes an SRV target's name count, draft-ietf-xmpp-dna-10
 * §6; DANE needs secure TLSA answers). Node's `dns` module can neither set the DO bit nor read the
 * AD bit, so Quiver has its own stub resolver: driver/dnsClient.ts (`createDnsClient`) owns the
 * sockets and timeouts; this file holds what needs neither.
 *
 * The AD bit is believed only from a resolver the client trusts to validate and to be reached
 * safely, by default one on loopback (RFC 6698 §1.3 / RFC 4035 §4.9.3: a stub "...SHOULD NOT
 * trust the AD bit unless it has a secure channel to the security-aware recursive name server").
 */
import type { DnssecStatus } from '../contract/viewModels.ts';
import {
  MAX_CNAME_HOPS,
  normalizeQueryName,
  type DecodedAnswer,
  type DnsQueryType,
  type DnsRcode,
  type DnsRecord,
  type SrvRecord,
  type TlsaRecord,
} from './dnsMessage.ts';
import { isIP, isIPv6 } from '../contract/ipLiteral.ts';
import { SecurityError } from './securityError.ts';

export type { DnsQueryType, DnsRcode, DnsRecord, SrvRecord, TlsaRecord };

export interface DnsAnswer<T = DnsRecord> {
  rcode: DnsRcode;
  records: T[];
  /**
   * `secure`: a trusted validating resolver set AD; `bogus`: it answered SERVFAIL (how a validating
   * resolver reports a validation failure, RFC 4035 §5.5); `insecure`: anything else.
   */
  dnssec: DnssecStatus;
  /** The AD bit as received, trusted or not. */
  authenticData: boolean;
  /** Smallest TTL of the records returned, null when none. */
  ttl: number | null;
  /** RFC 2308 §5: for an answer without records, how long it may be cached (from the SOA); else null. */
  negativeTtl?: number | null;
}

export interface DnsClient {
  readonly server: { host: string; port: number };
  readonly trustAd: boolean;
  query(name: string, type: 'SRV'): Promise<DnsAnswer<SrvRecord>>;
  query(name: string, type: 'TLSA'): Promise<DnsAnswer<TlsaRecord>>;
  query(name: string, type: 'A' | 'AAAA' | 'CNAME' | 'TXT'): Promise<DnsAnswer<string>>;
  query(name: string, type: DnsQueryType): Promise<DnsAnswer>;
  srv(name: string): Promise<DnsAnswer<SrvRecord>>;
}

/**
 * One question to the server and its decoded answer (the driver's UDP/TCP exchange with retries).
 * @throws SecurityError when no usable answer came (`dns-timeout`, `dns-network`, `dns-malformed`, ...)
 */
export type DnsExchange = (name: string, type: DnsQueryType) => Promise<DecodedAnswer>;

/**
 * A DnsClient that asks `exchange`: it follows a CNAME chain the resolver left unfinished and gives
 * each answer its DNSSEC status, believing AD only when `trustAd`.
 */
export function createDnsClientOver(
  server: { host: string; port: number },
  trustAd: boolean,
  exchange: DnsExchange,
): DnsClient {
  async function query(name: string, type: DnsQueryType): Promise<DnsAnswer> {
    let answer = await exchange(name, type);
    let hops = answer.cnameHops;
    let secure = true;
    const visited = new Set([normalizeQueryName(name)]);
    // A recursive resolver follows CNAMEs itself (RFC 1034 §4.3.2); one that stopped part-way (a
    // chain longer than it follows, or a truncated chain) is asked for the rest, within one bound.
    while (
      type !== 'CNAME' &&
      answer.rcode === 'NOERROR' &&
      answer.records.length === 0 &&
      !visited.has(answer.canonicalName)
    ) {
      if (hops >= MAX_CNAME_HOPS) {
        throw new SecurityError(
          'dns-malformed',
          `The DNS answer for ${name} is a chain of more than ${MAX_CNAME_HOPS} CNAMEs; Quiver does not follow it.`,
        );
      }
      visited.add(answer.canonicalName);
      secure &&= toAnswer(answer, trustAd).dnssec === 'secure';
      answer = await exchange(answer.canonicalName, type);
      hops += 1 + answer.cnameHops;
      if (visited.has(answer.canonicalName) && answer.records.length === 0 && answer.cnameHops > 0) {
        throw new SecurityError(
          'dns-malformed',
          `The DNS answers for ${name} form a CNAME loop through ${answer.canonicalName}.`,
        );
      }
    }
    const result = toAnswer(answer, trustAd);
    // The weakest link decides: a chain is secure only if every answer on it was.
    if (!secure && result.dnssec === 'secure') result.dnssec = 'insecure';
    return result;
  }

  return {
    server,
    trustAd,
    query: query as DnsClient['query'],
    srv: (name) => query(name, 'SRV') as Promise<DnsAnswer<SrvRecord>>,
  };
}

/** The first `nameserver` line of a resolv.conf text, or null. */
export function parseResolvConf(text: string): string | null {
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    if (match?.[1]) return match[1].replace(/%.*$/, ''); // drop an IPv6 zone index
  }
  return null;
}

/** @throws SecurityError `dns-bad-server` */
export function parseServer(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host: string;
  let port = '53';
  if (bracketed?.[1]) {
    host = bracketed[1];
    port = bracketed[2] ?? '53';
  } else if (isIPv6(text)) {
    host = text;
  } else {
    const [h, p, ...rest] = text.split(':');
    if (rest.length > 0 || h === undefined)
      throw new SecurityError('dns-bad-server', `The DNS server "${text}" is not HOST, HOST:PORT or [IPv6]:PORT.`);
    host = h;
    port = p ?? '53';
  }
  const portNumber = Number(port);
  if (!isIP(host) || !/^\d+$/.test(port) || portNumber < 1 || portNumber > 65535) {
    throw new SecurityError(
      'dns-bad-server',
      `The DNS server "${text}" must be an IP address with an optional port (like 127.0.0.1:53), since resolving its name would need DNS.`,
    );
  }
  // One spelling per address, so that the source check of answers compares like with like.
  if (isIPv6(host)) host = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  return { host, port: portNumber };
}

function toAnswer(answer: DecodedAnswer, trustAd: boolean): DnsAnswer {
  let dnssec: DnssecStatus = 'insecure';
  if (trustAd && answer.rcode === 'SERVFAIL') dnssec = 'bogus';
  else if (trustAd && answer.authenticData) dnssec = 'secure';
  return {
    rcode: answer.rcode,
    records: answer.records,
    dnssec,
    authenticData: answer.authenticData,
    ttl: answer.ttl,
    negativeTtl: answer.negativeTtl,
  };
}
