/**
 * A small stub resolver that can see DNSSEC: Node's `dns` module can neither set the DO bit nor
 * read the AD bit, and the verifier needs both (a DNSSEC-secured SRV answer is what makes an SRV
 * target's name count, draft-ietf-xmpp-dna-10 §6; DANE needs secure TLSA answers).
 *
 * UDP first, TCP when the answer is truncated (RFC 7766 §5: "...the client SHOULD retry over
 * TCP"), one retry with a fresh ID and a fresh socket (so a fresh, kernel-chosen random source
 * port) after a timeout or a bad answer. Messages that are not our answer are dropped and the
 * client keeps listening (RFC 5452 §9.1). The AD bit is believed only from a resolver the client
 * trusts to validate and to be reached safely, by default one on loopback (RFC 6698 §1.3 /
 * RFC 4035 §4.9.3: a stub "...SHOULD NOT trust the AD bit unless it has a secure channel to the
 * security-aware recursive name server").
 */
import * as dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import type { DnssecStatus } from '../contract/viewModels.ts';
import {
  decodeResponse,
  encodeQuery,
  MAX_CNAME_HOPS,
  normalizeQueryName,
  type DecodedAnswer,
  type DnsQueryType,
  type DnsRcode,
  type DnsRecord,
  type SrvRecord,
  type TlsaRecord,
} from './dnsMessage.ts';
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

export interface DnsClientOptions {
  /** `HOST`, `HOST:PORT` or `[IPv6]:PORT`, HOST an address literal. Default: the first nameserver in /etc/resolv.conf. */
  server?: string;
  /** Per attempt; there are at most two attempts (plus TCP after a truncated answer). Default 2000. */
  timeoutMs?: number;
  /** Believe the AD bit. Default: true only when the server is on loopback. */
  trustAd?: boolean;
  /** Where to read the default server from (tests). Default /etc/resolv.conf. */
  resolvConfPath?: string;
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

export const DEFAULT_DNS_TIMEOUT_MS = 2000;
const ATTEMPTS = 2;
/** When /etc/resolv.conf names no server (glibc's own default, resolv.conf(5)). */
const FALLBACK_SERVER = '127.0.0.1';

export function createDnsClient(opts: DnsClientOptions = {}): DnsClient {
  const server = parseServer(opts.server ?? defaultServer(opts.resolvConfPath ?? '/etc/resolv.conf'));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
  const trustAd = opts.trustAd ?? isLoopback(server.host);

  async function exchange(name: string, type: DnsQueryType): Promise<DecodedAnswer> {
    let lastError: SecurityError | null = null;
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      try {
        const answer = await udpExchange(server, name, type, timeoutMs);
        return answer.truncated ? await tcpExchange(server, name, type, timeoutMs) : answer;
      } catch (error) {
        if (!(error instanceof SecurityError) || error.code === 'dns-bad-name') throw error;
        lastError = error;
      }
    }
    throw (
      lastError ??
      new SecurityError('dns-timeout', `No answer from the DNS server ${formatServer(server)} for ${name}.`)
    );
  }

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
  } else if (net.isIPv6(text)) {
    host = text;
  } else {
    const [h, p, ...rest] = text.split(':');
    if (rest.length > 0 || h === undefined)
      throw new SecurityError('dns-bad-server', `The DNS server "${text}" is not HOST, HOST:PORT or [IPv6]:PORT.`);
    host = h;
    port = p ?? '53';
  }
  const portNumber = Number(port);
  if (!net.isIP(host) || !/^\d+$/.test(port) || portNumber < 1 || portNumber > 65535) {
    throw new SecurityError(
      'dns-bad-server',
      `The DNS server "${text}" must be an IP address with an optional port (like 127.0.0.1:53), since resolving its name would need DNS.`,
    );
  }
  // One spelling per address, so that the source check of answers compares like with like.
  if (net.isIPv6(host)) host = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  return { host, port: portNumber };
}

function defaultServer(path: string): string {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // No resolv.conf: use the resolver's documented default rather than failing.
    void error;
  }
  const server = parseResolvConf(text) ?? FALLBACK_SERVER;
  return net.isIPv6(server) ? `[${server}]` : server;
}

function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || /^::ffff:127\./i.test(host);
}

function formatServer(server: { host: string; port: number }): string {
  return net.isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
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

/** One UDP exchange on a new socket; resolves with our answer, ignoring anything else that arrives. */
function udpExchange(
  server: { host: string; port: number },
  name: string,
  type: DnsQueryType,
  timeoutMs: number,
): Promise<DecodedAnswer> {
  const id = randomInt(0, 0x10000);
  const message = encodeQuery(name, type, id);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (error: SecurityError | null, answer?: DecodedAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else if (answer) resolve(answer);
    };
    const timer = setTimeout(
      () =>
        finish(
          new SecurityError(
            'dns-timeout',
            `The DNS server ${formatServer(server)} did not answer for ${name} (${type}) within ${timeoutMs} ms.`,
          ),
        ),
      timeoutMs,
    );
    socket.on('error', (error) =>
      finish(
        new SecurityError(
          'dns-network',
          `The DNS server ${formatServer(server)} could not be reached: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    socket.on('message', (bytes, remote) => {
      // A connected socket only delivers datagrams from the server; checking again costs nothing.
      if (remote.port !== server.port || !sameAddress(remote.address, server.host)) return;
      let decoded: ReturnType<typeof decodeResponse<DnsQueryType>>;
      try {
        decoded = decodeResponse(bytes, { id, name, type });
      } catch (error) {
        if (!(error instanceof SecurityError)) throw error;
        finish(error);
        return;
      }
      if (decoded.kind === 'unrelated') return; // RFC 5452 §9.1: not our answer; keep waiting for it
      finish(null, decoded);
    });
    // connect(): the kernel then drops datagrams from other addresses and reports ICMP refusals.
    socket.connect(server.port, server.host, () => {
      socket.send(message, (error) => {
        if (error)
          finish(
            new SecurityError(
              'dns-network',
              `Could not send to the DNS server ${formatServer(server)}: ${error.message}`,
              { cause: error },
            ),
          );
      });
    });
  });
}

/** RFC 7766 §8 / RFC 1035 §4.2.2: over TCP each message is preceded by its two-byte length. */
function tcpExchange(
  server: { host: string; port: number },
  name: string,
  type: DnsQueryType,
  timeoutMs: number,
): Promise<DecodedAnswer> {
  const id = randomInt(0, 0x10000);
  const message = encodeQuery(name, type, id);
  const framed = Buffer.alloc(2 + message.byteLength);
  framed.writeUInt16BE(message.byteLength, 0);
  framed.set(message, 2);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: SecurityError | null, answer?: DecodedAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else if (answer) resolve(answer);
    };
    const timer = setTimeout(
      () =>
        finish(
          new SecurityError(
            'dns-timeout',
            `The DNS server ${formatServer(server)} did not answer for ${name} (${type}) over TCP within ${timeoutMs} ms.`,
          ),
        ),
      timeoutMs,
    );
    socket.on('error', (error) =>
      finish(
        new SecurityError(
          'dns-network',
          `The DNS server ${formatServer(server)} could not be reached over TCP: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    socket.on('connect', () => socket.write(framed));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.byteLength < 2) return;
      const length = received.readUInt16BE(0);
      if (received.byteLength < 2 + length) return;
      let decoded: ReturnType<typeof decodeResponse<DnsQueryType>>;
      try {
        decoded = decodeResponse(received.subarray(2, 2 + length), { id, name, type });
      } catch (error) {
        if (!(error instanceof SecurityError)) throw error;
        finish(error);
        return;
      }
      // On our own TCP connection there is no one else to hear from: a mismatch is a broken server.
      if (decoded.kind === 'unrelated')
        finish(
          new SecurityError(
            'dns-malformed',
            `The DNS server ${formatServer(server)} answered over TCP with something else: ${decoded.reason}.`,
          ),
        );
      else finish(null, decoded);
    });
    socket.on('end', () =>
      finish(
        new SecurityError(
          'dns-malformed',
          `The DNS server ${formatServer(server)} closed the TCP connection before a complete answer for ${name}.`,
        ),
      ),
    );
  });
}

function sameAddress(a: string, b: string): boolean {
  return a.replace(/^::ffff:/i, '').toLowerCase() === b.replace(/^::ffff:/i, '').toLowerCase();
}
