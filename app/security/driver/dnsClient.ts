/**
 * The stub resolver's I/O (the pure half, with the CNAME following and the DNSSEC status, is
 * app/security/dnsClient.ts).
 *
 * UDP first, TCP when the answer is truncated (RFC 7766 §5: "...the client SHOULD retry over
 * TCP"), one retry with a fresh ID and a fresh socket (so a fresh, kernel-chosen random source
 * port) after a timeout or a bad answer. Messages that are not our answer are dropped and the
 * client keeps listening (RFC 5452 §9.1). The AD bit is believed by default only from a resolver
 * on loopback (RFC 4035 §4.9.3, see dnsClient.ts).
 */
import * as dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { createDnsClientOver, parseResolvConf, parseServer, type DnsClient } from '../dnsClient.ts';
import { decodeResponse, encodeQuery, type DecodedAnswer, type DnsQueryType } from '../dnsMessage.ts';
import { SecurityError } from '../securityError.ts';

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

export const DEFAULT_DNS_TIMEOUT_MS = 2000;
const ATTEMPTS = 2;
/** When /etc/resolv.conf names no server (glibc's own default, resolv.conf(5)). */
const FALLBACK_SERVER = '127.0.0.1';

/**
 * A DnsClient over UDP (and TCP for truncated answers) to `opts.server`.
 * @throws SecurityError `dns-bad-server` when `opts.server` is not an address with an optional port
 */
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

  return createDnsClientOver(server, trustAd, exchange);
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
