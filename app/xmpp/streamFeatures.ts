/**
 * What a server offers in `<stream:features/>` (RFC 6120 §4.3.2), read into plain data: for the
 * stream machine's 'features' goal (`quiver probe`), and for the namespaces it keeps to know what
 * the server supports (roster versioning).
 */
import type { Element } from 'ltx';
import { NS_BIND2, NS_SASL, NS_SASL2, NS_SM, NS_TLS } from './namespaces.ts';

export interface StreamFeatures {
  /** Namespaces of the features' children, in the server's order, each once. */
  namespaces: string[];
  /** RFC 6120 §5.4.1: `<starttls/>` is offered (only ever in plaintext). */
  starttls: boolean;
  /** RFC 6120 §6.4.1: the SASL mechanisms offered, in the server's order. */
  mechanisms: string[];
  /** XEP-0388 §2.1: the SASL2 mechanisms offered in `<authentication/>`; empty without SASL2. */
  sasl2Mechanisms: string[];
  /** XEP-0386 §2: Bind 2 is offered inside SASL2's `<inline/>`. */
  bind2: boolean;
  /** XEP-0198 §3: stream management (`<sm xmlns='urn:xmpp:sm:3'/>`) is offered. */
  sm: boolean;
}

/** Reads a `<stream:features/>` element. Unknown children only add their namespace. */
export function parseStreamFeatures(features: Element): StreamFeatures {
  const children = features.getChildElements();
  const find = (name: string, ns: string) => children.find((c) => c.getName() === name && c.getNS() === ns);
  const texts = (parent: Element | undefined, name: string) =>
    (parent?.getChildElements() ?? []).filter((c) => c.getName() === name).map((c) => c.getText().trim());
  const sasl2 = find('authentication', NS_SASL2);
  const inline = sasl2?.getChildElements().find((c) => c.getName() === 'inline');
  return {
    namespaces: [
      ...new Set(children.map((c) => c.getNS()).filter((ns): ns is string => typeof ns === 'string' && ns !== '')),
    ],
    starttls: find('starttls', NS_TLS) !== undefined,
    mechanisms: texts(find('mechanisms', NS_SASL), 'mechanism'),
    sasl2Mechanisms: texts(sasl2, 'mechanism'),
    bind2: inline?.getChildElements().some((c) => c.getName() === 'bind' && c.getNS() === NS_BIND2) ?? false,
    sm: find('sm', NS_SM) !== undefined,
  };
}
