/**
 * How a `ClientStreamMachine` is set up: the goal, the account, the transport's security and the
 * limits and deadlines it enforces.
 */
import type { FastCredentials } from './fast.ts';
import type { ChannelBinding } from './scram.ts';
import type { StreamManagementOptions } from './streamManagement.ts';

export interface StreamMachineOptions {
  /**
   * How far to go. 'session' (the default): authenticate and bind, then 'online'. 'features':
   * stop at the stream features the server sends once TLS is up (after STARTTLS, or at once with
   * direct TLS) and report them in a 'features' event, without authenticating (`quiver probe`).
   * The TLS rules are the same for both: a server without STARTTLS is refused, never used in plaintext.
   */
  goal?: 'session' | 'features';
  /** Bare JID of the account; for goal 'features' the server's domain alone is enough. */
  jid: string;
  /** Required for goal 'session'; never used (nor needed) for goal 'features'. */
  password?: string;
  /** Resource to request; the server may assign another. */
  resource?: string;
  /**
   * 'starttls': the stream starts in plaintext and MUST negotiate STARTTLS before anything else
   * (a server not offering <starttls/> is refused with error code 'tls-unavailable', never used
   * in plaintext); 'tls': TLS is already up (direct TLS or QUIC).
   */
  security: 'starttls' | 'tls';
  /** For security 'tls': channel-binding data of the established TLS session. */
  channelBinding?: ChannelBinding | null;
  /** Injectable randomness (SCRAM nonce, ids) so tests are deterministic. Default node:crypto randomBytes. */
  randomBytes?: (n: number) => Uint8Array;
  limits?: { maxStanzaBytes?: number; maxDepth?: number };
  /** Deadline for each negotiation step and for the close handshake, ms (default 30000). */
  stepTimeoutMs?: number;
  /**
   * XEP-0198 stream management (default null: none). When the server offers <sm/>, enable it after
   * binding (`resume`: ask for a resumable stream); with `previous` (a former stream's
   * `streamManagementState()` whose `id` is not null), resume that stream instead of binding.
   */
  streamManagement?: StreamManagementOptions | null;
  /**
   * XEP-0388 SASL2 (default true): sign in with SASL2, binding with XEP-0386 Bind 2 inline, when
   * the server offers them; false keeps RFC 6120 SASL and binding (servers without SASL2 get
   * those anyway).
   */
  sasl2?: boolean;
  /**
   * XEP-0388 §2.2 <user-agent/>: `id` is a UUID v4 stable for this installation (XEP-0484 needs
   * it: without it no token is requested or used); `device` an optional name for the device.
   * The software is always 'Quiver'.
   */
  userAgent?: { id: string; device?: string | null } | null;
  /** XEP-0280: enable carbons inline with Bind 2 (reported in 'online' as `inlineEnabled`). */
  carbons?: boolean;
  /**
   * XEP-0484: a token from an earlier 'fast-token' event, used instead of the password when the
   * server offers FAST with its mechanism. A refused token ends the stream with error code
   * 'fast-token-rejected': forget the token and connect again with the password.
   */
  fast?: FastCredentials | null;
  /** XEP-0484 §3.2: ask the server for a token; it arrives as a 'fast-token' event. */
  requestFastToken?: boolean;
}
