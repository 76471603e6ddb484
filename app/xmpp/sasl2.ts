/**
 * One XEP-0388 SASL2 authentication as a small sans-IO step function, like SaslExchange for RFC
 * 6120 SASL: it builds <authenticate/> (mechanism, initial response, <user-agent/> and the inline
 * requests negotiation hands it), answers <challenge/>s, and checks <success/> (the mechanism's
 * additional data, the authorization identifier) or reads <failure/>. SCRAM maths is scram.ts,
 * the HT-* token mechanisms of XEP-0484 are fast.ts.
 */
import { Element } from 'ltx';
import { downgradeHash } from './downgradeProtection.ts';
import { htInitialResponse, htVerifyServer, usableFastMechanism, type FastCredentials } from './fast.ts';
import { parseJid } from './jid.ts';
import { NS_FAST, NS_SASL, NS_SASL2 } from './namespaces.ts';
import { chooseMechanism, plainMessage } from './sasl.ts';
import type { SaslCredentials } from './saslExchange.ts';
import { ScramClient, type ChannelBinding } from './scram.ts';
import { describeSaslFailure, localError, StreamError } from './streamError.ts';

/** What the server's <authentication xmlns='urn:xmpp:sasl:2'/> (and XEP-0440) offer. */
export interface Sasl2Offer {
  mechanisms: string[];
  channelBindingTypes: string[] | null;
  /** XEP-0484 mechanisms in SASL2 <inline><fast/>; null when FAST is not offered. */
  fastMechanisms: string[] | null;
}

export interface Sasl2Start {
  creds: SaslCredentials;
  binding: ChannelBinding | null;
  random: (n: number) => Uint8Array;
  /** A FAST token to sign in with instead of the password, when the server accepts its mechanism. */
  fast: FastCredentials | null;
  /** XEP-0388 §2.2 <user-agent/>. */
  userAgent: { id: string | null; software: string; device: string | null };
  /** Inline requests (Bind 2, XEP-0198 <resume/>, FAST <request-token/>) placed after <user-agent/>. */
  inline: Element[];
}

export type Sasl2Step =
  | { kind: 'send'; xml: string }
  | { kind: 'fail'; error: StreamError; unexpected: boolean }
  /** Authenticated; `success` is the whole <success/> for its inline answers; `authzid` the JID it names. */
  | {
      kind: 'success';
      mechanism: string;
      channelBinding: 'tls-exporter' | null;
      fast: boolean;
      authzid: string;
      success: Element;
    };

function decode(text: string): Buffer | null {
  const t = text.trim();
  if (t === '' || t === '=') return Buffer.alloc(0);
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return null;
  return Buffer.from(t, 'base64');
}

export class Sasl2Exchange {
  readonly mechanism: string;
  private readonly creds: SaslCredentials;
  private readonly scram: ScramClient | null;
  private readonly fast: FastCredentials | null;
  private readonly binding: ChannelBinding | null;
  private readonly bound: boolean;
  private finalSent = false;
  private verified = false;

  private constructor(
    start: Sasl2Start,
    mechanism: string,
    scram: ScramClient | null,
    fast: FastCredentials | null,
    bound: boolean,
  ) {
    this.creds = start.creds;
    this.mechanism = mechanism;
    this.scram = scram;
    this.fast = fast;
    this.binding = start.binding;
    this.bound = bound;
  }

  /** Picks the mechanism (a usable FAST token first, then as sasl.ts picks) and builds <authenticate/>. */
  static start(offer: Sasl2Offer, start: Sasl2Start): { exchange: Sasl2Exchange | null; step: Sasl2Step } {
    const { creds, binding } = start;
    const inline = [...start.inline];
    const fast = start.fast;
    let initial: Uint8Array;
    let exchange: Sasl2Exchange;
    if (
      fast !== null &&
      offer.fastMechanisms !== null &&
      offer.fastMechanisms.includes(fast.mechanism) &&
      usableFastMechanism(fast.mechanism, binding)
    ) {
      // XEP-0484 §3.4: "To indicate that it is providing a token, the client MUST include a
      // <fast/> element qualified by the 'urn:xmpp:fast:0' namespace". No 'count': we never
      // authenticate in TLS 0-RTT data (XEP-0388 §6 forbids it without such mitigations).
      inline.push(new Element('fast', { xmlns: NS_FAST }));
      initial = htInitialResponse(creds.username, fast, binding);
      exchange = new Sasl2Exchange(start, fast.mechanism, null, fast, fast.mechanism !== 'HT-SHA-256-NONE');
    } else {
      const choice = chooseMechanism(
        { mechanisms: offer.mechanisms, channelBindingTypes: offer.channelBindingTypes },
        binding,
      );
      if (!choice.ok) {
        const error = localError(
          'no-acceptable-mechanism',
          `${creds.domain} offers no sign-in method Quiver accepts (${choice.reason}).`,
        );
        return { exchange: null, step: { kind: 'fail', error, unexpected: false } };
      }
      let scram: ScramClient | null = null;
      try {
        if (choice.hash && choice.gs2) {
          scram = new ScramClient({
            hash: choice.hash,
            username: creds.username,
            password: creds.password,
            clientNonce: Buffer.from(start.random(18)).toString('base64'),
            gs2: choice.gs2,
            // XEP-0474 §3.1 note: with SASL1 and SASL2 both offered, only the list of the profile
            // in use is hashed.
            downgradeHash: downgradeHash(offer, choice.hash),
          });
          initial = new TextEncoder().encode(scram.clientFirst());
        } else {
          initial = plainMessage(creds.username, creds.password);
        }
      } catch (e) {
        const error = localError(
          'saslprep-failed',
          `The user name or password of ${creds.account} contains characters that cannot be used to sign in (${(e as Error).message}).`,
        );
        return { exchange: null, step: { kind: 'fail', error, unexpected: false } };
      }
      exchange = new Sasl2Exchange(start, choice.mechanism, scram, null, choice.gs2?.flag === 'p');
    }
    // XEP-0388 §2.2: "a single mandatory attribute of 'mechanism'", an optional
    // <initial-response/>, and "Clients SHOULD also include a <user-agent/> element".
    const auth = new Element('authenticate', { xmlns: NS_SASL2, mechanism: exchange.mechanism });
    auth.c('initial-response').t(Buffer.from(initial).toString('base64'));
    const ua = start.userAgent;
    const agent = auth.c('user-agent', ua.id !== null ? { id: ua.id } : {});
    agent.c('software').t(ua.software);
    if (ua.device !== null) agent.c('device').t(ua.device);
    for (const el of inline) auth.cnode(el);
    return { exchange, step: { kind: 'send', xml: auth.toString() } };
  }

  /** Whether a FAST token (not the password) is being used. */
  get usesToken(): boolean {
    return this.fast !== null;
  }

  /** Handles one top-level element received while authenticating. */
  handle(el: Element): Sasl2Step {
    if (el.getNS() !== NS_SASL2) return this.unexpected(el);
    switch (el.getName()) {
      case 'failure':
        return this.failure(el);
      case 'continue':
        // XEP-0388 §2.6: <continue/> asks for tasks (second factor, password change ...) that
        // Quiver does not implement.
        return {
          kind: 'fail',
          unexpected: false,
          error: localError(
            'sasl2-task-required',
            `${this.creds.domain} requires an extra sign-in step for ${this.creds.account} (a SASL2 task such as a second factor or a password change) that Quiver does not support. Complete it with another client or in the provider's web interface, then try again.`,
          ),
        };
      case 'challenge':
        return this.challenge(el);
      case 'success':
        return this.success(el);
      default:
        return this.unexpected(el);
    }
  }

  private challenge(el: Element): Sasl2Step {
    const payload = decode(el.getText());
    if (payload === null) return this.serverAuthFailed('its <challenge/> is not valid base64');
    if (!this.scram) return this.serverAuthFailed(`it sent a challenge to ${this.mechanism}`);
    const text = payload.toString('utf8');
    if (!this.finalSent) {
      const final = this.scram.clientFinal(text);
      if (!final.ok) return final.downgrade ? this.downgrade(final.reason) : this.serverAuthFailed(final.reason);
      this.finalSent = true;
      return {
        kind: 'send',
        xml: `<response xmlns='${NS_SASL2}'>${Buffer.from(final.value).toString('base64')}</response>`,
      };
    }
    const v = this.scram.verifyServerFinal(text);
    if (!v.ok) return this.serverAuthFailed(v.reason);
    this.verified = true;
    return { kind: 'send', xml: `<response xmlns='${NS_SASL2}'/>` };
  }

  private success(el: Element): Sasl2Step {
    const children = el.getChildElements();
    const additional = children.find((c) => c.getName() === 'additional-data');
    const data = additional ? decode(additional.getText()) : Buffer.alloc(0);
    if (data === null) return this.serverAuthFailed('its <additional-data/> is not valid base64');
    if (this.scram) {
      // XEP-0388 §2.5: <additional-data/> carries "additional data from the SASL mechanism": for
      // SCRAM, the server-final-message.
      if (data.length > 0 && !this.verified) {
        const v = this.scram.verifyServerFinal(data.toString('utf8'));
        if (!v.ok) return this.serverAuthFailed(v.reason);
        this.verified = true;
      }
      // RFC 5802 §9: without a verified ServerSignature, success proves nothing about the server.
      if (!this.verified) return this.serverAuthFailed('it reported success without its SCRAM signature');
    } else if (this.fast && (data.length === 0 || !htVerifyServer(data, this.fast, this.binding))) {
      // XEP-0484 §3.2: the server proves it knows the token too (HMAC over "Responder"): without
      // that proof, success says nothing about the server, and no new token from it is kept.
      return this.serverAuthFailed(
        data.length === 0
          ? 'it reported success without proving it knows the token'
          : 'its answer to the sign-in token does not verify',
      );
    }
    // XEP-0388 §2.5: <success/> "contains an <authorization-identifier/> element containing the
    // negotiated identity - this is a bare JID, unless resource binding has occurred".
    const authzText =
      children
        .find((c) => c.getName() === 'authorization-identifier')
        ?.getText()
        .trim() ?? '';
    const authz = parseJid(authzText);
    const account = parseJid(this.creds.account);
    if (!authz || !account || authz.bare !== account.bare) {
      return {
        kind: 'fail',
        unexpected: false,
        error: localError(
          'sasl2-bad-identity',
          `${this.creds.domain} signed ${this.creds.account} in as "${authzText.slice(0, 100)}", which is not this account. Quiver closed the connection.`,
        ),
      };
    }
    return {
      kind: 'success',
      mechanism: this.mechanism,
      channelBinding: this.bound ? 'tls-exporter' : null,
      fast: this.fast !== null,
      authzid: authz.full,
      success: el,
    };
  }

  private failure(el: Element): Sasl2Step {
    // XEP-0388 §2.6: <failure/> "MUST contain one of the SASL error codes from RFC 6120 Section 6.5".
    let condition = 'not-authorized';
    let text: string | null = null;
    for (const c of el.getChildElements()) {
      if (c.getName() === 'text' && c.getNS() === NS_SASL2) text = c.getText();
      // The condition is the RFC 6120 §6.5 one; XEP-0388 allows application-specific elements beside it.
      else if (c.getNS() === NS_SASL) condition = c.getName();
    }
    if (this.fast) {
      // XEP-0484 §5: a server that "no longer trusts a token ... MUST instead fail the
      // authentication ... and then allow the client to authenticate using other mechanisms".
      return {
        kind: 'fail',
        unexpected: false,
        error: new StreamError({
          code: 'fast-token-rejected',
          source: 'peer',
          text,
          message: `${this.creds.domain} refused the saved sign-in token of ${this.creds.account} (${condition}). Quiver forgets the token and signs in with the password.`,
        }),
      };
    }
    return {
      kind: 'fail',
      unexpected: false,
      error: new StreamError({
        code: condition,
        source: 'peer',
        text,
        message: describeSaslFailure(condition, this.creds.account, this.mechanism, text),
      }),
    };
  }

  private downgrade(reason: string): Sasl2Step {
    return {
      kind: 'fail',
      unexpected: false,
      error: localError(
        'downgrade-detected',
        `Signing in to ${this.creds.domain} as ${this.creds.account} was stopped: ${reason} (XEP-0474). Someone may be intercepting the connection; try another network, and tell the provider if it persists.`,
      ),
    };
  }

  private serverAuthFailed(reason: string): Sasl2Step {
    return {
      kind: 'fail',
      unexpected: false,
      error: localError(
        'server-authentication-failed',
        `${this.creds.domain} could not prove that it knows the credentials of ${this.creds.account} (${reason}). This can mean an attacker is in the middle; Quiver did not sign in.`,
      ),
    };
  }

  private unexpected(el: Element): Sasl2Step {
    return {
      kind: 'fail',
      unexpected: true,
      error: localError(
        'unsupported-stanza-type',
        `${this.creds.domain} sent <${el.name}/> where SASL2 messages were expected (unsupported-stanza-type). Quiver closed the connection.`,
      ),
    };
  }
}
