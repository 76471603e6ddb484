/**
 * How a `ClientStreamMachine` is set up: the goal, the account, the transport's security and the
 * limits and deadlines it enforces.
 */
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
}
