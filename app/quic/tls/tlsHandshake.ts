/**
 * The TLS 1.3 handshake for QUIC, sans-IO (RFC 9001 §4): no record layer, no sockets, no timers,
 * no clock of its own (session tickets are dated by the config's `now`, which the driver supplies).
 * Handshake bytes go in and out per epoch as the contents of CRYPTO frames.
 *
 * Driving it (quinn-proto style):
 *   - client: `start()`, then after every `handleCrypto`/`acceptPeer`/`rejectPeer`, drain
 *     `pollEvent()` and `pollOutput()` until both return undefined. Events come in the order they
 *     happen: a 'keys' event precedes the output bytes of the epoch it unlocks, so process events
 *     before sending output.
 *   - client: on 'peer-certificate', run the verifier (security/) and call `acceptPeer()` or
 *     `rejectPeer()`. Until then no Finished is sent and no 1-RTT keys exist.
 *   - 'error' is final: close the connection with CRYPTO_ERROR 0x0100 + alert (RFC 9001 §4.8), or
 *     with `quicError` when it is set (RFC 9001 names PROTOCOL_VIOLATION for a few cases).
 * A misbehaving peer never makes a method throw; throws are programmer errors (bad config, calls
 * out of order).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { Alert, TlsAlertError, QUIC_CRYPTO_BUFFER_EXCEEDED, QUIC_PROTOCOL_VIOLATION, alertName } from './alerts.ts';
import type { CipherSuiteInfo } from './cipherSuites.ts';
import { ClientHandshake } from './clientHandshake.ts';
import { HandshakeBuffer, HandshakeIo, type RoleMachine } from './handshakeIo.ts';
import { nextTrafficSecret } from './keySchedule.ts';
import { handshakeTypeName } from './messages.ts';
import { ServerHandshake } from './serverHandshake.ts';
import type { Epoch, TlsClientConfig, TlsEvent, TlsServerConfig } from './tlsTypes.ts';
import type { TlsFacts } from '../../transport/tlsFacts.ts';

export type { CipherSuiteInfo } from './cipherSuites.ts';
export type { StoredTicket } from './tickets.ts';
export type { Epoch, TlsClientConfig, TlsEvent, TlsServerConfig } from './tlsTypes.ts';

/** Encrypted Client Hello is not implemented: the server name travels in clear in the ClientHello. */
export const ECH_STATUS: NonNullable<TlsFacts['ech']> = 'not-available';

/** RFC 9001 §4.1.3 leaves buffering to us: we hold at most this many unprocessed bytes per epoch. */
export const MAX_BUFFERED_HANDSHAKE_BYTES = 64 * 1024;

const EPOCH_ORDER: Readonly<Record<Epoch, number>> = { initial: 0, handshake: 1, application: 2 };

export class TlsHandshake {
  private readonly io = new HandshakeIo();
  private readonly role: RoleMachine;
  private readonly buffers: Record<Epoch, HandshakeBuffer> = {
    initial: new HandshakeBuffer(MAX_BUFFERED_HANDSHAKE_BYTES),
    handshake: new HandshakeBuffer(MAX_BUFFERED_HANDSHAKE_BYTES),
    application: new HandshakeBuffer(MAX_BUFFERED_HANDSHAKE_BYTES),
  };
  private failed = false;

  constructor(config: TlsClientConfig | TlsServerConfig) {
    if (config.alpn.length === 0) throw new Error('TLS config: RFC 9001 §8.1 requires at least one ALPN protocol');
    const random = config.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n)));
    this.role =
      config.role === 'client'
        ? new ClientHandshake(config, this.io, random, config.now)
        : new ServerHandshake(config, this.io, random, config.now);
  }

  /** Client: queues the ClientHello. Server: no-op. Poll afterwards. */
  start(): void {
    this.role.start();
  }

  /**
   * Handshake bytes received in CRYPTO frames of `epoch`, in order (the QUIC layer reassembles).
   * Poll events and output afterwards.
   */
  handleCrypto(epoch: Epoch, data: Uint8Array): void {
    if (this.failed) return;
    // RFC 9001 §4.1.3: "If the packet is from a previously installed encryption level, it MUST NOT
    // contain data that extends past the end of previously received data in that flow."
    if (EPOCH_ORDER[epoch] < EPOCH_ORDER[this.role.readEpoch]) {
      return this.fail(
        new TlsAlertError(
          Alert.unexpected_message,
          `handshake data in the ${epoch} epoch after it was closed`,
          QUIC_PROTOCOL_VIOLATION,
        ),
      );
    }
    const buffered = this.buffers[epoch];
    // RFC 9000 §7.5: an endpoint whose CRYPTO buffer is exceeded and does not expand it "MUST close
    // the connection with a CRYPTO_BUFFER_EXCEEDED error code."
    if (buffered.length + data.length > MAX_BUFFERED_HANDSHAKE_BYTES) {
      const reason = `more than ${MAX_BUFFERED_HANDSHAKE_BYTES} unprocessed handshake bytes in the ${epoch} epoch`;
      return this.fail(new TlsAlertError(Alert.unexpected_message, reason, QUIC_CRYPTO_BUFFER_EXCEEDED));
    }
    buffered.append(data);
    this.pump();
  }

  /** Bytes to send in CRYPTO frames of `epoch`; call until undefined after every handle*. */
  pollOutput(): { epoch: Epoch; data: Uint8Array } | undefined {
    return this.io.pollOutput();
  }

  pollEvent(): TlsEvent | undefined {
    return this.io.pollEvent();
  }

  /**
   * Client: after a 'peer-certificate' event, the caller's verifier accepted the chain. Only then
   * does the client send its Finished and install 1-RTT keys, so no application data can precede
   * the decision. Throws if called at any other time.
   */
  acceptPeer(): void {
    if (this.failed) return;
    if (!this.role.waiting) throw new Error("acceptPeer() without a pending 'peer-certificate' event");
    this.guard(() => this.role.acceptPeer());
    if (!this.failed && this.buffers.handshake.length > 0) {
      // RFC 9001 §4.1.3: unconsumed data from a previous encryption level at a key change.
      return this.fail(
        new TlsAlertError(
          Alert.unexpected_message,
          'unconsumed handshake data after the server Finished',
          QUIC_PROTOCOL_VIOLATION,
        ),
      );
    }
    this.pump();
  }

  /** Caller refused the chain: emits an 'error' event with bad_certificate (42) or the given alert. */
  rejectPeer(alert: number = Alert.bad_certificate, reason = 'the certificate chain was refused'): void {
    if (this.failed) return;
    this.fail(new TlsAlertError(alert, reason));
  }

  /** RFC 9001 §6: next generation secret = HKDF-Expand-Label(secret, "quic ku", "", Hash.length). */
  static nextTrafficSecret(suite: CipherSuiteInfo, secret: Uint8Array): Uint8Array {
    return nextTrafficSecret(suite.hash, secret);
  }

  get isComplete(): boolean {
    return !this.failed && this.role.complete;
  }

  get alpn(): string | null {
    return this.role.alpn;
  }

  get suite(): CipherSuiteInfo | null {
    return this.role.suite;
  }

  /** Null until the peer's Finished has verified (client: from 'peer-certificate' on). */
  get tlsFacts(): TlsFacts | null {
    return this.failed ? null : this.role.facts();
  }

  private pump(): void {
    while (!this.failed && !this.role.waiting) {
      const epoch = this.role.readEpoch;
      const buf = this.buffers[epoch];
      if (buf.length < 4) return;
      const length = (buf.at(1) << 16) | (buf.at(2) << 8) | buf.at(3);
      if (length + 4 > MAX_BUFFERED_HANDSHAKE_BYTES) {
        return this.fail(
          new TlsAlertError(Alert.decode_error, `${handshakeTypeName(buf.at(0))} of ${length} bytes exceeds our limit`),
        );
      }
      if (buf.length < 4 + length) return;
      const raw = buf.take(4 + length);
      this.guard(() => this.role.handleMessage({ type: raw[0] as number, body: raw.subarray(4), raw }));
      if (!this.failed && this.role.readEpoch !== epoch && this.buffers[epoch].length > 0) {
        // RFC 9001 §4.1.3: "When TLS provides keys for a higher encryption level, if there is data
        // from a previous encryption level that TLS has not consumed, this MUST be treated as a
        // connection error of type PROTOCOL_VIOLATION."
        this.fail(
          new TlsAlertError(
            Alert.unexpected_message,
            `unconsumed ${epoch} handshake data at a key change`,
            QUIC_PROTOCOL_VIOLATION,
          ),
        );
      }
    }
  }

  private guard(step: () => void): void {
    if (this.failed) return;
    try {
      step();
    } catch (err) {
      if (err instanceof TlsAlertError) return this.fail(err);
      // Whatever else escaped (a crypto routine refusing hostile input we failed to screen) still
      // must not throw out of the machine: it is a fatal internal_error for this connection only.
      this.fail(
        new TlsAlertError(Alert.internal_error, `internal error: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }

  private fail(err: TlsAlertError): void {
    this.failed = true;
    this.io.dropOutputs();
    const event: TlsEvent = { type: 'error', alert: err.alert, reason: `${alertName(err.alert)}: ${err.reason}` };
    if (err.quicError !== undefined) event.quicError = err.quicError;
    this.io.emit(event);
  }
}
