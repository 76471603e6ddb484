/**
 * TCP, STARTTLS and direct TLS on node:net / node:tls. Certificate checks are NOT done here: OpenSSL
 * is told not to reject anything, and the caller hands `TlsFacts.chain` to the one verifier
 * (app/security/verifier.ts) before a single XMPP byte goes over the new TLS session — the same
 * verifier QUIC uses, where no OpenSSL is involved at all.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ByteTransport, TlsStartOptions, TransportHandlers, UpgradableTransport } from './byteTransport.ts';
import type { TlsFacts } from './tlsFacts.ts';
import { TransportError } from './transportError.ts';
import { isIP } from '../contract/ipLiteral.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

export class TcpTransport implements UpgradableTransport {
  #socket: net.Socket | tls.TLSSocket;
  #handlers: TransportHandlers | null = null;
  #closed = false;
  /** A close that happened before `setHandlers`: delivered then, not lost. */
  #pendingClose: { error: Error | null } | null = null;
  #upgrading = false;
  /** After STARTTLS: paused until `resume` (the verifier decides first). */
  #awaitingResume = false;
  /**
   * Plaintext bytes were read before `startTls`: the handshake is a STARTTLS upgrade (the server
   * said `<proceed/>` in plaintext), not direct TLS, and a failure is worded for that case.
   */
  #readPlaintext = false;
  readonly description: string;

  private constructor(socket: net.Socket, description: string) {
    this.#socket = socket;
    this.description = description;
    socket.pause();
    this.#attach(socket);
  }

  /** Connects to the first address that answers, in order. */
  static async connect(
    addresses: readonly string[],
    port: number,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<TcpTransport> {
    if (addresses.length === 0) throw new TransportError('no-address', `No address to connect to on port ${port}.`);
    let last: Error | null = null;
    for (const address of addresses) {
      try {
        const socket = await connectSocket(address, port, timeoutMs);
        return new TcpTransport(socket, `tcp ${net.isIPv6(address) ? `[${address}]` : address}:${port}`);
      } catch (error) {
        last = error as Error;
      }
    }
    throw last!;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    if (this.#pendingClose) {
      const { error } = this.#pendingClose;
      this.#pendingClose = null;
      handlers.onClose(error);
      return;
    }
    if (!this.#upgrading && !this.#awaitingResume) this.#socket.resume();
  }

  resume(): void {
    this.#awaitingResume = false;
    if (this.#handlers && !this.#closed) this.#socket.resume();
  }

  write(data: Uint8Array): void {
    if (this.#closed) return;
    this.#socket.write(data);
  }

  end(): void {
    if (!this.#closed) this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  async startTls(options: TlsStartOptions & { hold?: boolean }): Promise<TlsFacts> {
    if (this.#socket instanceof tls.TLSSocket) throw new Error('startTls: TLS is already up');
    const raw = this.#socket;
    this.#upgrading = true;
    raw.pause();
    raw.removeAllListeners('data');
    raw.removeAllListeners('end');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    const secure = await handshake(raw, { ...options, upgrade: this.#readPlaintext });
    this.#socket = secure;
    this.#upgrading = false;
    this.#awaitingResume = options.hold === true;
    this.#attach(secure);
    if (this.#handlers && !this.#awaitingResume) secure.resume();
    return readFacts(secure, options.servername);
  }

  #attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      if (!(socket instanceof tls.TLSSocket)) this.#readPlaintext = true;
      this.#handlers?.onData(chunk);
    });
    let error: Error | null = null;
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = new TransportError('transport-error', describeSocketError(e), e);
    });
    socket.on('close', () => {
      if (this.#upgrading) return;
      this.#closed = true;
      if (this.#handlers) this.#handlers.onClose(error);
      else this.#pendingClose = { error };
    });
  }
}

/**
 * Direct TLS (XEP-0368): TLS from the first byte, ALPN `xmpp-client`, SNI = the JID's domain.
 * Each address is tried in turn until a TLS handshake completes: an address that accepts TCP but
 * does not speak TLS (a stale record, a middlebox) does not hide the others.
 */
export async function connectDirectTls(
  addresses: readonly string[],
  port: number,
  options: TlsStartOptions,
): Promise<{ transport: TcpTransport; facts: TlsFacts }> {
  if (addresses.length === 0) throw new TransportError('no-address', `No address to connect to on port ${port}.`);
  let last: Error | null = null;
  for (const address of addresses) {
    let transport: TcpTransport | null = null;
    try {
      transport = await TcpTransport.connect([address], port, options.timeoutMs);
      const facts = await transport.startTls(options);
      return { transport, facts };
    } catch (error) {
      transport?.destroy();
      last = error as Error;
    }
  }
  throw last!;
}

function connectSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  // net.connect would look a name up with the system resolver, behind the back of the resolver the
  // account uses (and of the DNSSEC facts the verifier was given): only literals are dialled.
  if (isIP(host) === 0) {
    return Promise.reject(
      new TransportError(
        'no-address',
        `"${host}" is not an IP address; Quiver connects only to the addresses its DNS lookup returned.`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new TransportError('connect-timeout', `${host} port ${port} did not answer within ${timeoutMs / 1000} s.`),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Notice a peer that vanished (Wi-Fi gone, NAT state dropped) even on an idle stream.
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const refused = e.code === 'ECONNREFUSED';
      reject(
        new TransportError(
          refused ? 'connection-refused' : 'connect-failed',
          refused
            ? `${host} refused the connection on port ${port}.`
            : `Could not connect to ${host} port ${port}: ${e.message}`,
          e,
        ),
      );
    });
  });
}

/** `upgrade`: STARTTLS (plaintext XMPP came first), as opposed to direct TLS from the first byte. */
function handshake(socket: net.Socket, options: TlsStartOptions & { upgrade: boolean }): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      servername: options.servername,
      ALPNProtocols: options.alpn,
      // The one verifier decides (app/security); OpenSSL only negotiates.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    });
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      secure.destroy();
      reject(
        new TransportError(
          'tls-timeout',
          `The TLS handshake with ${options.servername} did not finish within ${timeoutMs / 1000} s.`,
        ),
      );
    }, timeoutMs);
    secure.pause();
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.removeAllListeners('error');
      resolve(secure);
    });
    secure.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (options.upgrade && notTlsRecord(e)) {
        // RFC 6120 §5.4.2.3: after <proceed/> the next bytes from the server are its TLS handshake.
        // `notTlsRecord`: the first bytes read were no TLS record header (0x16 0x03 ...):
        // the server, or someone on the path, sent plaintext after agreeing to STARTTLS. It arrived
        // after the stream machine handed the socket to TLS (the machine refuses what comes with
        // <proceed/> itself, code 'plaintext-after-proceed' too); either way nothing of it is read.
        reject(new TransportError('plaintext-after-proceed', plaintextAfterProceed(options.servername), e));
        return;
      }
      reject(new TransportError('tls-failed', describeTlsError(options.servername, e), e));
    });
  });
}

/** OpenSSL's words for a first record whose header is not TLS (plaintext, HTTP, XML). */
function notTlsRecord(e: NodeJS.ErrnoException): boolean {
  return (
    e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    e.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    /wrong version number|packet length too long/.test(e.message)
  );
}

/** The words of the stream machine's refusal of the same thing (streamNegotiation.ts), with what the person can do. */
function plaintextAfterProceed(servername: string): string {
  return `${servername} (or someone on the network) sent unencrypted data after agreeing to STARTTLS, where its TLS handshake should have been. Quiver closed the connection without reading it; try again, and report it to the server's operator if it keeps happening.`;
}

/** What a failed TLS handshake means, for a person; OpenSSL's own words stay in the cause. */
function describeTlsError(servername: string, e: NodeJS.ErrnoException): string {
  if (notTlsRecord(e)) {
    return `The server for ${servername} did not answer in TLS on this port: it may expect STARTTLS or plain XMPP here. Choose "Automatic" as the transport, or check the port.`;
  }
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    return `The server for ${servername} dropped the connection during the TLS handshake. It may not support TLS 1.2 or 1.3, or a firewall interfered.`;
  }
  if (/alert/i.test(e.message)) {
    return `The server for ${servername} refused the TLS handshake (${e.message.replace(/^.*?:/, '').trim()}).`;
  }
  return `The TLS handshake with ${servername} failed: ${e.message}`;
}

function describeSocketError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNRESET':
      return 'The server reset the connection.';
    case 'ETIMEDOUT':
      return 'The connection timed out: the network or the server stopped answering.';
    case 'EPIPE':
      return 'The connection was closed while Quiver was sending.';
    default:
      return `The connection failed: ${e.message}`;
  }
}

function readFacts(socket: tls.TLSSocket, sni: string): TlsFacts {
  const version = socket.getProtocol();
  // Node 20's getPeerX509Certificate() is undefined after the first call; read the chain once here.
  const chain: Uint8Array[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate;
  }
  const alpn = socket.alpnProtocol;
  return {
    version,
    cipher: socket.getCipher()?.standardName ?? null,
    alpn: typeof alpn === 'string' ? alpn : null,
    sni,
    chain,
    // RFC 9266 §2: label "EXPORTER-Channel-Binding", 32 bytes, no context. In TLS 1.3 (RFC 8446
    // §7.5) an absent context and an empty one give the same value. TLS 1.3 only: under TLS 1.2 the
    // exporter is safe only with extended master secret, which Node does not report.
    channelBinding:
      version === 'TLSv1.3'
        ? {
            type: 'tls-exporter',
            data: new Uint8Array(socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))),
          }
        : null,
  };
}

export type { ByteTransport };
