/**
 * One SASL negotiation (RFC 6120 §6.4) as a small sans-IO step function: the stream machine
 * hands it the <stream:features/> and then each element in the SASL namespace; it answers with
 * what to send, success, or a failure. Mechanism choice is in sasl.ts, SCRAM maths in scram.ts.
 */
import type { Element } from 'ltx';
import { downgradeHash } from './downgradeProtection.ts';
import { NS_SASL, NS_SASL_CB } from './namespaces.ts';
import { chooseMechanism, plainMessage } from './sasl.ts';
import { ScramClient, type ChannelBinding } from './scram.ts';
import { describeSaslFailure, StreamError } from './streamError.ts';

export interface SaslCredentials {
  /** The account's bare JID, for messages. */
  account: string;
  /** RFC 6120 §6.3.8: the simple user name is the localpart. */
  username: string;
  password: string;
  domain: string;
}

export type SaslStep =
  /** Send this XML and wait for the next SASL element. */
  | { kind: 'send'; xml: string }
  /** Authenticated (and, for SCRAM, the server proved it knows the password). */
  | { kind: 'success'; mechanism: string; channelBinding: 'tls-exporter' | null }
  /** Fatal: close the stream with this error. `unexpected` marks a non-SASL element (a protocol violation). */
  | { kind: 'fail'; error: StreamError; unexpected: boolean };

function base64(data: Uint8Array | string): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString('base64');
}

/** RFC 6120 §6.4.2: "=" stands for an empty payload; anything else must be base64. Null when invalid. */
function decodePayload(text: string): string | null {
  const t = text.trim();
  if (t === '' || t === '=') return '';
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return null;
  return Buffer.from(t, 'base64').toString('utf8');
}

export class SaslExchange {
  readonly mechanism: string;
  private readonly creds: SaslCredentials;
  private readonly scram: ScramClient | null;
  private readonly binding: 'tls-exporter' | null;
  private finalSent = false;
  private verified = false;

  private constructor(
    creds: SaslCredentials,
    mechanism: string,
    scram: ScramClient | null,
    binding: 'tls-exporter' | null,
  ) {
    this.creds = creds;
    this.mechanism = mechanism;
    this.scram = scram;
    this.binding = binding;
  }

  /**
   * Picks a mechanism from the features and builds the <auth/> element. `binding` is the
   * channel-binding data of the TLS session, or null. `random` supplies the SCRAM nonce.
   */
  static start(
    features: Element,
    creds: SaslCredentials,
    binding: ChannelBinding | null,
    random: (n: number) => Uint8Array,
  ): { exchange: SaslExchange; step: SaslStep } | { exchange: null; step: SaslStep } {
    const children = features.getChildElements();
    const mechanisms = children.find((c) => c.getName() === 'mechanisms' && c.getNS() === NS_SASL);
    const cb = children.find((c) => c.getName() === 'sasl-channel-binding' && c.getNS() === NS_SASL_CB);
    const offer = {
      mechanisms: mechanisms
        ? mechanisms
            .getChildElements()
            .filter((m) => m.getName() === 'mechanism')
            .map((m) => m.getText().trim())
        : [],
      channelBindingTypes: cb
        ? cb
            .getChildElements()
            .filter((c) => c.getName() === 'channel-binding')
            .map((c) => String(c.attrs.type ?? ''))
        : null,
    };
    const choice = chooseMechanism(offer, binding);
    if (!choice.ok) {
      const error = new StreamError({
        code: 'no-acceptable-mechanism',
        source: 'local',
        message: `${creds.domain} offers no sign-in method Quiver accepts (${choice.reason}).`,
      });
      return { exchange: null, step: { kind: 'fail', error, unexpected: false } };
    }
    let initial: Uint8Array;
    let scram: ScramClient | null = null;
    try {
      if (choice.hash && choice.gs2) {
        scram = new ScramClient({
          hash: choice.hash,
          username: creds.username,
          password: creds.password,
          // RFC 5802 §5.1 (r): a fresh random nonce of printable characters; base64 has no ','.
          clientNonce: Buffer.from(random(18)).toString('base64'),
          gs2: choice.gs2,
          // XEP-0474 §3.2: checked against the "h" attribute of the server-first-message.
          downgradeHash: downgradeHash(offer, choice.hash),
        });
        initial = new TextEncoder().encode(scram.clientFirst());
      } else {
        initial = plainMessage(creds.username, creds.password);
      }
    } catch (e) {
      // SASLprep (RFC 4013) refused the credentials: a user-input problem, not the server's.
      const error = new StreamError({
        code: 'saslprep-failed',
        source: 'local',
        message: `The user name or password of ${creds.account} contains characters that cannot be used to sign in (${(e as Error).message}).`,
      });
      return { exchange: null, step: { kind: 'fail', error, unexpected: false } };
    }
    const exchange = new SaslExchange(creds, choice.mechanism, scram, choice.gs2?.flag === 'p' ? 'tls-exporter' : null);
    return {
      exchange,
      step: { kind: 'send', xml: `<auth xmlns='${NS_SASL}' mechanism='${choice.mechanism}'>${base64(initial)}</auth>` },
    };
  }

  /** Handles one top-level element received while authenticating. */
  handle(el: Element): SaslStep {
    if (el.getNS() !== NS_SASL) return this.unexpected(el);
    const name = el.getName();
    if (name === 'failure') {
      // RFC 6120 §6.5: the condition is the child element; <text/> is optional.
      let condition = 'not-authorized';
      let text: string | null = null;
      for (const c of el.getChildElements()) {
        if (c.getName() === 'text') text = c.getText();
        else condition = c.getName();
      }
      const error = new StreamError({
        code: condition,
        source: 'peer',
        text,
        message: describeSaslFailure(condition, this.creds.account, this.mechanism, text),
      });
      return { kind: 'fail', error, unexpected: false };
    }
    if (name !== 'challenge' && name !== 'success') return this.unexpected(el);
    const payload = decodePayload(el.getText());
    if (payload === null) return this.serverAuthFailed(`its <${name}/> is not valid base64`);

    if (name === 'challenge') {
      if (!this.scram) return this.serverAuthFailed('it sent a challenge to PLAIN');
      if (!this.finalSent) {
        const final = this.scram.clientFinal(payload);
        if (!final.ok) return final.downgrade ? this.downgrade(final.reason) : this.serverAuthFailed(final.reason);
        this.finalSent = true;
        return { kind: 'send', xml: `<response xmlns='${NS_SASL}'>${base64(final.value)}</response>` };
      }
      // Some servers send server-final-message in a challenge, then an empty <success/>.
      const v = this.scram.verifyServerFinal(payload);
      if (!v.ok) return this.serverAuthFailed(v.reason);
      this.verified = true;
      return { kind: 'send', xml: `<response xmlns='${NS_SASL}'/>` };
    }

    // <success/>: RFC 6120 §6.4.6 carries the SCRAM server-final-message as additional data.
    if (this.scram) {
      if (payload !== '' && !this.verified) {
        const v = this.scram.verifyServerFinal(payload);
        if (!v.ok) return this.serverAuthFailed(v.reason);
        this.verified = true;
      }
      // RFC 5802 §9: without a verified ServerSignature, success proves nothing about the server.
      if (!this.verified) return this.serverAuthFailed('it reported success without its SCRAM signature');
    }
    return { kind: 'success', mechanism: this.mechanism, channelBinding: this.binding };
  }

  private downgrade(reason: string): SaslStep {
    const error = new StreamError({
      code: 'downgrade-detected',
      source: 'local',
      message: `Signing in to ${this.creds.domain} as ${this.creds.account} was stopped: ${reason} (XEP-0474). Someone may be intercepting the connection; try another network, and tell the provider if it persists.`,
    });
    return { kind: 'fail', error, unexpected: false };
  }

  private serverAuthFailed(reason: string): SaslStep {
    const error = new StreamError({
      code: 'server-authentication-failed',
      source: 'local',
      message: `${this.creds.domain} could not prove that it knows the password of ${this.creds.account} (${reason}). This can mean an attacker is in the middle; Quiver did not sign in.`,
    });
    return { kind: 'fail', error, unexpected: false };
  }

  private unexpected(el: Element): SaslStep {
    const error = new StreamError({
      code: 'unsupported-stanza-type',
      source: 'local',
      message: `${this.creds.domain} sent <${el.name}/> where SASL messages were expected (unsupported-stanza-type). Quiver closed the connection.`,
    });
    return { kind: 'fail', error, unexpected: true };
  }
}
