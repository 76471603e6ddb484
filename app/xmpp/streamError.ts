/**
 * The one error type of the XMPP stream machine.
 *
 * `code` is stable and machine-readable: an RFC 6120 §4.9.3 stream-error condition, an RFC 6120
 * §6.5 SASL failure condition, or one of ours (listed in `LocalCode`). `message` is worded for a
 * person: what happened and what they can do about it.
 */
import type { Element } from 'ltx';
import { QuiverError } from '../contract/quiverError.ts';
import { NS_STREAMS } from './namespaces.ts';

/** Codes that the machine raises itself (not conditions sent by the server). */
export type LocalCode =
  /** 'starttls' mode and the server offered no <starttls/>: we never continue in plaintext. */
  | 'tls-unavailable'
  /** The server refused STARTTLS with <failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>. */
  | 'tls-failed'
  /** No SASL mechanism we are willing to use was offered. */
  | 'no-acceptable-mechanism'
  /** SCRAM: the server's signature (v=) did not verify, or its messages were malformed. */
  | 'server-authentication-failed'
  /** The server offered no resource binding, or refused it. */
  | 'bind-failed'
  /** A negotiation step or the close handshake passed its deadline. */
  | 'timeout'
  /** The transport closed before the stream was closed. */
  | 'transport-closed'
  /** The server closed the stream (</stream:stream>) without a stream error. */
  | 'peer-closed'
  /** A stanza exceeded `limits.maxStanzaBytes` (we send <policy-violation/>). */
  | 'stanza-too-big'
  /** Plaintext bytes arrived after <proceed/> and before TLS (a STARTTLS injection attempt). */
  | 'plaintext-after-proceed'
  /** SASLprep (RFC 4013) refused the user name or password. */
  | 'saslprep-failed'
  /** XEP-0198 §6: the server acknowledged more stanzas than were sent (we send undefined-condition). */
  | 'handled-count-too-high'
  /** XEP-0198: a stream management element out of place or malformed (we send undefined-condition). */
  | 'sm-protocol-violation'
  /** XEP-0484: the server refused the FAST token: forget it and sign in with the password. */
  | 'fast-token-rejected'
  /** XEP-0474: the server's signed list of mechanisms or channel bindings differs from what was offered. */
  | 'downgrade-detected'
  /** XEP-0388: the server asks for a task (<continue/>) Quiver cannot perform. */
  | 'sasl2-task-required'
  /** XEP-0388: the server signed in an identity that is not this account. */
  | 'sasl2-bad-identity';

/**
 * RFC 6120 §4.9.3 conditions the machine raises itself when the server breaks the rules (it also
 * sends them to the server): 'not-well-formed', 'restricted-xml' (comments, PIs, DTDs, entity
 * references: RFC 6120 §11.1), 'policy-violation' (nesting deeper than `limits.maxDepth`),
 * 'unsupported-encoding', 'invalid-namespace', 'unsupported-version', 'unsupported-stanza-type'.
 */
export type LocalRfcCode =
  | 'not-well-formed'
  | 'restricted-xml'
  | 'policy-violation'
  | 'unsupported-encoding'
  | 'invalid-namespace'
  | 'unsupported-version'
  | 'unsupported-stanza-type';

export interface StreamErrorInit {
  code: string;
  source: 'peer' | 'local';
  /** The human sentence(s). */
  message: string;
  /** The server's <text/>, if any. */
  text?: string | null;
  /** see-other-host: the host (optionally `host:port`) the server redirects us to. */
  otherHost?: string | null;
}

export class StreamError extends QuiverError {
  readonly text: string | null;
  readonly source: 'peer' | 'local';
  /** RFC 6120 §4.9.3.19 see-other-host: the XML character data of the condition element. */
  readonly otherHost: string | null;

  constructor(init: StreamErrorInit) {
    super(init.code, init.message);
    this.source = init.source;
    this.text = init.text ?? null;
    this.otherHost = init.otherHost ?? null;
  }
}

/** An error found on our side (`source: 'local'`): the server broke a rule, or a step failed. */
export function localError(code: string, message: string): StreamError {
  return new StreamError({ code, source: 'local', message });
}

/** RFC 6120 §4.9: reads a <stream:error> the server sent. */
export function peerStreamError(el: Element, domain: string): StreamError {
  let condition = 'undefined-condition';
  let text: string | null = null;
  let otherHost: string | null = null;
  for (const c of el.getChildElements()) {
    if (c.getNS() !== NS_STREAMS) continue;
    if (c.getName() === 'text') {
      text = c.getText();
    } else if (condition === 'undefined-condition') {
      condition = c.getName();
      // RFC 6120 §4.9.3.19: the character data of <see-other-host/> names the host (FQDN or IP
      // address, optionally with a port) to connect to instead.
      if (condition === 'see-other-host') otherHost = c.getText().trim() || null;
    }
  }
  return new StreamError({
    code: condition,
    source: 'peer',
    text,
    otherHost,
    message: describePeerStreamError(condition, domain, text, otherHost),
  });
}

/** What a person reads when the server's bytes broke the XML framing (xmlFramer's error `code`). */
export function framingError(code: string, detail: string, domain: string, maxStanzaBytes: number): StreamError {
  switch (code) {
    case 'restricted-xml':
      return localError(
        code,
        `${domain} sent XML that XMPP forbids (${detail}; RFC 6120 §11.1). Quiver closed the connection; report it to the server operator if it keeps happening.`,
      );
    case 'stanza-too-big':
      return localError(
        code,
        `${domain} sent a stanza larger than ${maxStanzaBytes} bytes, so Quiver closed the connection.`,
      );
    case 'policy-violation':
      return localError(code, `${domain} sent ${detail}, so Quiver closed the connection.`);
    case 'unsupported-encoding':
      return localError(
        code,
        `${domain} sent XML in ${detail}, but XMPP requires UTF-8 (RFC 6120 §11.6). Quiver closed the connection.`,
      );
    default:
      return localError(
        'not-well-formed',
        `${domain} sent data that is not well-formed XML (${detail}). Quiver closed the connection; try again, and report it to the server operator if it keeps happening.`,
      );
  }
}

/** What a person reads for a stream-error condition the server sent (RFC 6120 §4.9.3). */
export function describePeerStreamError(
  condition: string,
  domain: string,
  text: string | null,
  otherHost: string | null,
): string {
  const said = text ? ` The server said: "${text}".` : '';
  const base = ((): string => {
    switch (condition) {
      case 'see-other-host':
        return `${domain} redirected this connection to ${otherHost ?? 'another host'} (see-other-host). Connect to that host instead.`;
      case 'host-unknown':
        return `The server does not serve the domain ${domain} (host-unknown). Check the domain part of the address.`;
      case 'host-gone':
        return `The server no longer serves the domain ${domain} (host-gone). Ask the provider where the account moved.`;
      case 'conflict':
        return `The server closed this session because another session for the same account and resource replaced it (conflict).`;
      case 'system-shutdown':
        return `${domain} is shutting down (system-shutdown). Try again later.`;
      case 'policy-violation':
        return `${domain} closed the connection because it broke a local policy (policy-violation), such as a size or rate limit.`;
      case 'resource-constraint':
        return `${domain} is out of resources and cannot serve the connection (resource-constraint). Try again later.`;
      case 'connection-timeout':
        return `${domain} closed the connection as idle (connection-timeout). Reconnect.`;
      case 'not-authorized':
        return `${domain} refused a request before authentication finished (not-authorized).`;
      case 'reset':
        return `${domain} reset the stream (reset), for example after a security or credential change. Reconnect.`;
      case 'unsupported-version':
        return `${domain} does not support this version of XMPP (unsupported-version).`;
      default:
        return `${domain} closed the stream with the error ${condition}.`;
    }
  })();
  return base + said;
}

/** What a person reads for an RFC 6120 §6.5 SASL failure condition. */
export function describeSaslFailure(
  condition: string,
  account: string,
  mechanism: string,
  text: string | null,
): string {
  const said = text ? ` The server said: "${text}".` : '';
  const base = ((): string => {
    switch (condition) {
      case 'not-authorized':
        return `The server rejected the password for ${account} (not-authorized). Check the password and try again.`;
      case 'account-disabled':
        return `The account ${account} is disabled (account-disabled). Contact the server administrator.`;
      case 'credentials-expired':
        return `The password for ${account} has expired (credentials-expired). Change it with your provider, then sign in again.`;
      case 'encryption-required':
        return `The server requires stronger encryption before it accepts ${mechanism} for ${account} (encryption-required).`;
      case 'mechanism-too-weak':
        return `The server considers ${mechanism} too weak for ${account} (mechanism-too-weak).`;
      case 'invalid-mechanism':
        return `The server does not accept the ${mechanism} mechanism (invalid-mechanism).`;
      case 'temporary-auth-failure':
        return `The server could not check the credentials of ${account} right now (temporary-auth-failure). Try again later.`;
      case 'aborted':
        return `Authentication of ${account} was aborted (aborted).`;
      default:
        return `The server refused to authenticate ${account} with ${mechanism} (${condition}).`;
    }
  })();
  return base + said;
}
