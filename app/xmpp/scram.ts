/**
 * SCRAM client (RFC 5802) for SCRAM-SHA-1, SCRAM-SHA-256 (RFC 7677) and their -PLUS variants
 * with tls-exporter channel binding (RFC 9266). Pure computation: the SASL exchange around it
 * lives in the stream machine.
 */
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';
import { QuiverError } from '../contract/quiverError.ts';
import type { ChannelBinding } from '../transport/tlsFacts.ts';

export type { ChannelBinding };

/**
 * RFC 5802 §6 gs2-cbind-flag: 'p' when we bind, 'y' when we could bind but the server seems
 * unable to, 'n' when we do not bind.
 */
export type Gs2Binding = { flag: 'n' } | { flag: 'y' } | { flag: 'p'; binding: ChannelBinding };

export interface ScramClientOptions {
  hash: 'sha1' | 'sha256';
  /** The authentication identity (for XMPP, the localpart of the JID: RFC 6120 §6.3.8). */
  username: string;
  password: string;
  /** Printable, no ','. Must be fresh and unpredictable for each exchange. */
  clientNonce: string;
  gs2: Gs2Binding;
  /** Refuse server iteration counts above this (PBKDF2 runs synchronously). Default 1,000,000. */
  maxIterations?: number;
  /**
   * XEP-0474: our own hash of what the server advertised (downgradeProtection.ts), checked
   * against the server-first-message's "h" attribute when the server sends one.
   */
  downgradeHash?: string;
}

/** `downgrade`: XEP-0474 found the advertised mechanisms or channel-binding types tampered with. */
export type ScramResult<T> = { ok: true; value: T } | { ok: false; reason: string; downgrade?: true };

/** Programmer/user-input error: the credentials cannot be prepared with SASLprep (RFC 4013). */
export class ScramPrepError extends QuiverError<'saslprep-failed'> {
  constructor(message: string, options?: ErrorOptions) {
    super('saslprep-failed', message, options);
  }
}

/** RFC 5802 §5.1: "The characters ',' or '=' in usernames are sent as '=2C' and '=3D' respectively." */
function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function b64(data: Uint8Array): string {
  return Buffer.from(data).toString('base64');
}

function parseAttributes(message: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const m = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!m) return null;
    if (!out.has(m[1]!)) out.set(m[1]!, m[2]!);
  }
  return out;
}

export class ScramClient {
  readonly hash: 'sha1' | 'sha256';
  private readonly username: string;
  private readonly password: string;
  private readonly clientNonce: string;
  private readonly gs2: Gs2Binding;
  private readonly maxIterations: number;
  private readonly downgradeHash: string | undefined;
  private serverSignature: Buffer | null = null;

  /** Throws `ScramPrepError` when SASLprep rejects the username or the password. */
  constructor(options: ScramClientOptions) {
    this.hash = options.hash;
    try {
      this.username = escapeSaslName(saslprep(options.username));
      this.password = saslprep(options.password);
    } catch (e) {
      throw new ScramPrepError(
        `The user name or password contains characters that SASL does not allow (RFC 4013: ${(e as Error).message}).`,
      );
    }
    if (options.clientNonce === '' || options.clientNonce.includes(','))
      throw new Error('SCRAM client nonce must be non-empty and contain no comma');
    this.clientNonce = options.clientNonce;
    this.gs2 = options.gs2;
    this.maxIterations = options.maxIterations ?? 1_000_000;
    this.downgradeHash = options.downgradeHash;
  }

  /** RFC 5802 §7: gs2-header = gs2-cbind-flag "," [ authzid ] "," (we never send an authzid). */
  get gs2Header(): string {
    return this.gs2.flag === 'p' ? `p=${this.gs2.binding.type},,` : `${this.gs2.flag},,`;
  }

  private get firstBare(): string {
    return `n=${this.username},r=${this.clientNonce}`;
  }

  /** client-first-message. */
  clientFirst(): string {
    return this.gs2Header + this.firstBare;
  }

  /** Consumes server-first-message; returns client-final-message. */
  clientFinal(serverFirst: string): ScramResult<string> {
    const attrs = parseAttributes(serverFirst);
    if (!attrs) return { ok: false, reason: 'the server-first-message is malformed' };
    // RFC 5802 §5.1 (m): a mandatory extension we do not know makes the client fail authentication.
    if (serverFirst.startsWith('m=')) return { ok: false, reason: 'the server requires an unknown SCRAM extension' };
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iter = attrs.get('i');
    if (nonce === undefined || salt === undefined || iter === undefined)
      return { ok: false, reason: 'the server-first-message lacks r, s or i' };
    // RFC 5802 §5.1 (r): the nonce of server-first is the client's nonce with the server's appended.
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length)
      return { ok: false, reason: 'the server nonce does not extend ours' };
    if (!/^[1-9][0-9]{0,9}$/.test(iter)) return { ok: false, reason: 'the iteration count is not a positive integer' };
    const iterations = Number(iter);
    if (iterations > this.maxIterations)
      return { ok: false, reason: `the iteration count ${iterations} is above our limit of ${this.maxIterations}` };
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(salt)) return { ok: false, reason: 'the salt is not base64' };
    const saltBytes = Buffer.from(salt, 'base64');
    // XEP-0474 §3.2: "If the hashes do not match, the client MUST fail the authentication."
    const advertised = attrs.get('h');
    if (advertised !== undefined && this.downgradeHash !== undefined && advertised !== this.downgradeHash)
      return {
        ok: false,
        downgrade: true,
        reason: 'the sign-in methods or channel-binding types the server advertised were changed on the way',
      };

    const cbindInput =
      this.gs2.flag === 'p'
        ? Buffer.concat([Buffer.from(this.gs2Header), Buffer.from(this.gs2.binding.data)])
        : Buffer.from(this.gs2Header);
    const withoutProof = `c=${b64(cbindInput)},r=${nonce}`;
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;

    // RFC 5802 §3: SaltedPassword := Hi(Normalize(password), salt, i) (Hi is PBKDF2 with HMAC).
    const keyLen = this.hash === 'sha1' ? 20 : 32;
    const salted = pbkdf2Sync(this.password, saltBytes, iterations, keyLen, this.hash);
    const clientKey = createHmac(this.hash, salted).update('Client Key').digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const clientSignature = createHmac(this.hash, storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(keyLen);
    for (let i = 0; i < keyLen; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    const serverKey = createHmac(this.hash, salted).update('Server Key').digest();
    this.serverSignature = createHmac(this.hash, serverKey).update(authMessage).digest();
    return { ok: true, value: `${withoutProof},p=${proof.toString('base64')}` };
  }

  /** Checks server-final-message ("v=" the server signature, or "e=" an error). */
  verifyServerFinal(serverFinal: string): ScramResult<true> {
    if (!this.serverSignature) return { ok: false, reason: 'the server sent its final message too early' };
    const attrs = parseAttributes(serverFinal);
    if (!attrs) return { ok: false, reason: 'the server-final-message is malformed' };
    const err = attrs.get('e');
    if (err !== undefined) return { ok: false, reason: `the server reported the SCRAM error ${err}` };
    const v = attrs.get('v');
    if (v === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(v))
      return { ok: false, reason: 'the server-final-message has no valid v=' };
    const got = Buffer.from(v, 'base64');
    // RFC 5802 §9: checking ServerSignature is what authenticates the server to the client.
    if (got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature)) {
      return { ok: false, reason: 'the server signature does not verify' };
    }
    return { ok: true, value: true };
  }
}
