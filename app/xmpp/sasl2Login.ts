/**
 * What one XEP-0388 SASL2 sign-in asks for inline, and what its <success/> answers: the plan
 * (inline XEP-0198 resumption, XEP-0386 Bind 2 with SM enable and XEP-0280 carbons, a XEP-0484
 * token request) built from the stream features, and the inline answers read from <success/>.
 * Negotiation (streamNegotiation.ts) runs the plan; Sasl2Exchange (sasl2.ts) the SASL part.
 */
import { Element } from 'ltx';
import { bind2Offer, bind2Request, boundElement } from './bind2.ts';
import { fastMechanismToRequest, fastOffer, parseFastToken, type FastTokenResult } from './fast.ts';
import { NS_CARBONS, NS_FAST, NS_SASL2, NS_SASL_CB, NS_SM, NS_STANZAS } from './namespaces.ts';
import type { Sasl2Offer } from './sasl2.ts';
import type { ChannelBinding } from './scram.ts';

/** XEP-0386 §3 <tag/>: "typically identifies the software the user is using". */
const BIND2_TAG = 'Quiver';

/** What was asked for inline in <authenticate/>. */
export interface Sasl2Plan {
  /** XEP-0198 <resume/> inside <authenticate/>. */
  resume: boolean;
  /** XEP-0386 <bind/> inside <authenticate/>. */
  bind2: boolean;
  /** XEP-0198 <enable/> inside <bind/>. */
  smEnable: boolean;
  /** XEP-0280 <enable/> inside <bind/>. */
  carbons: boolean;
  /** Namespaces enabled inline besides SM (what 'online' reports). */
  enabledInline: string[];
  /** XEP-0484 <request-token mechanism/>: the mechanism asked for, or null. */
  tokenMechanism: string | null;
}

export interface Sasl2PlanInput {
  smPendingResume: boolean;
  smResumeRequest: () => Element | null;
  smEnableRequest: () => Element | null;
  carbons: boolean;
  requestFastToken: boolean;
  binding: ChannelBinding | null;
}

/** XEP-0440 §2: the channel-binding types in <sasl-channel-binding/>, or null when absent. */
export function channelBindingTypes(features: Element): string[] | null {
  const cb = features
    .getChildElements()
    .find((c) => c.getName() === 'sasl-channel-binding' && c.getNS() === NS_SASL_CB);
  if (!cb) return null;
  return cb
    .getChildElements()
    .filter((c) => c.getName() === 'channel-binding')
    .map((c) => String(c.attrs.type ?? ''));
}

/** Builds the inline requests for <authenticate/> from the features (SASL2 is offered in them). */
export function planSasl2(
  features: Element,
  mechanisms: string[],
  input: Sasl2PlanInput,
): { plan: Sasl2Plan; offer: Sasl2Offer; inline: Element[] } {
  const auth = features.getChildElements().find((c) => c.getName() === 'authentication' && c.getNS() === NS_SASL2);
  const inlineOffer = auth?.getChildElements().find((c) => c.getName() === 'inline');
  const smInSasl2 = inlineOffer?.getChildElements().some((c) => c.getName() === 'sm' && c.getNS() === NS_SM) ?? false;
  const bind = bind2Offer(inlineOffer);
  const fastMechanisms = fastOffer(inlineOffer);
  const plan: Sasl2Plan = {
    resume: false,
    bind2: false,
    smEnable: false,
    carbons: false,
    enabledInline: [],
    tokenMechanism: null,
  };
  const inline: Element[] = [];

  const resume = smInSasl2 ? input.smResumeRequest() : null;
  if (resume !== null) {
    inline.push(resume);
    plan.resume = true;
  }
  // Bind 2 would start a new session while a former one waits to be resumed and the server does
  // not take <resume/> inline: then the classic way (XEP-0198 <resume/> after the features, else
  // RFC 6120 binding) keeps that former session reachable.
  if (bind.offered && (plan.resume || !input.smPendingResume)) {
    const requests: Element[] = [];
    const enable = bind.inline.includes(NS_SM) ? input.smEnableRequest() : null;
    if (enable !== null) {
      requests.push(enable);
      plan.smEnable = true;
    }
    if (input.carbons && bind.inline.includes(NS_CARBONS)) {
      // XEP-0386 §3: "If the client included a XEP-0280 <enable/> element in the requested
      // features, Message Carbons MUST be enabled at this point. As this operation MUST succeed,
      // no response is necessary."
      requests.push(new Element('enable', { xmlns: NS_CARBONS }));
      plan.carbons = true;
      plan.enabledInline.push(NS_CARBONS);
    }
    inline.push(bind2Request(BIND2_TAG, requests));
    plan.bind2 = true;
  }
  if (input.requestFastToken && fastMechanisms !== null) {
    // XEP-0484 §3.2: the 'mechanism' "MUST be one of the FAST mechanisms advertised by the server".
    plan.tokenMechanism = fastMechanismToRequest(fastMechanisms, input.binding);
    if (plan.tokenMechanism !== null)
      inline.push(new Element('request-token', { xmlns: NS_FAST, mechanism: plan.tokenMechanism }));
  }
  return {
    plan,
    offer: { mechanisms, channelBindingTypes: channelBindingTypes(features), fastMechanisms },
    inline,
  };
}

/** The inline answers of a SASL2 <success/>. */
export interface Sasl2Outcome {
  /** XEP-0198 <resumed/> or <failed/> for an inline <resume/> (a synthesised <failed/> when the server said nothing). */
  smResumeAnswer: Element;
  /** XEP-0386 <bound/>. */
  bound: Element | undefined;
  /** The XEP-0198 <enabled/> or <failed/> inside <bound/>. */
  smEnableAnswer: Element | undefined;
  /** XEP-0484 <token/>. */
  token: FastTokenResult;
}

export function sasl2Outcome(success: Element): Sasl2Outcome {
  const sm = success
    .getChildElements()
    .find((c) => c.getNS() === NS_SM && (c.getName() === 'resumed' || c.getName() === 'failed'));
  const bound = boundElement(success);
  return {
    // A server that ignores our <resume/> has not resumed it: treated as XEP-0198 <failed/>.
    smResumeAnswer: sm ?? new Element('failed', { xmlns: NS_SM }).c('item-not-found', { xmlns: NS_STANZAS }).up(),
    bound,
    smEnableAnswer: bound
      ?.getChildElements()
      .find((c) => c.getNS() === NS_SM && (c.getName() === 'enabled' || c.getName() === 'failed')),
    token: parseFastToken(success),
  };
}
