/**
 * XEP-0386 Bind 2: resource binding inside the SASL2 <authenticate/> request, with the features a
 * session negotiates inline (XEP-0198 enable, XEP-0280 carbons), and the <bound/> answer inside
 * SASL2 <success/>.
 */
import { Element } from 'ltx';
import { NS_BIND2 } from './namespaces.ts';

/** What SASL2's <inline/> says about Bind 2. */
export interface Bind2Offer {
  /** §2: "a feature named 'bind' in the namespace 'urn:xmpp:bind:0'" inside SASL2 <inline/>. */
  offered: boolean;
  /** §2: the 'var' of each <feature/> in the bind feature's own <inline/>. */
  inline: string[];
}

/** Reads the Bind 2 feature from SASL2's <inline/> element. */
export function bind2Offer(sasl2Inline: Element | undefined): Bind2Offer {
  const bind = sasl2Inline?.getChildElements().find((c) => c.getName() === 'bind' && c.getNS() === NS_BIND2);
  if (!bind) return { offered: false, inline: [] };
  const inline = bind.getChildElements().find((c) => c.getName() === 'inline');
  return {
    offered: true,
    inline: (inline?.getChildElements() ?? [])
      .filter((c) => c.getName() === 'feature' && typeof c.attrs.var === 'string')
      .map((c) => c.attrs.var as string),
  };
}

/**
 * §3: "the client MUST include a <bind/> element, qualified by the 'urn:xmpp:bind:0' namespace,
 * in its SASL2 <authenticate/> request", with an optional <tag/> and the inline requests.
 */
export function bind2Request(tag: string, inline: Element[]): Element {
  const bind = new Element('bind', { xmlns: NS_BIND2 });
  bind.c('tag').t(tag);
  for (const el of inline) bind.cnode(el);
  return bind;
}

/** §3: the <bound/> element of SASL2 <success/>; undefined when binding did not happen. */
export function boundElement(success: Element): Element | undefined {
  return success.getChildElements().find((c) => c.getName() === 'bound' && c.getNS() === NS_BIND2);
}
