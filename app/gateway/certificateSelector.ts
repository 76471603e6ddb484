/**
 * Which certificate the gateway presents to a client: the first of its certificate/key pairs whose
 * leaf names the ClientHello's SNI as a DNS-ID, else the first pair. One gateway can so front
 * several XMPP domains with different certificates (XEP-0467 §2: the client sends its JID's domain
 * as SNI, like XEP-0368 direct TLS).
 *
 * The names are compared by the verifier's own rules (`app/security/identity.ts`): A-labels,
 * case-insensitive, and RFC 6125 §6.4.3: "the client SHOULD NOT attempt to match a presented
 * identifier in which the wildcard character comprises a label other than the left-most label",
 * a wildcard matching exactly one label. Only DNS-IDs count: SRV-IDs, XmppAddrs and the CN are
 * left to the client's verifier, which will still check whichever certificate arrives.
 */
import type { KeyObject } from 'node:crypto';
import { parseCertificate, type ParsedCertificate } from '../security/certificate.ts';
import { matchIdentity } from '../security/identity.ts';

/** One certificate chain (DER, leaf first) and the private key of its leaf. */
export interface GatewayCertificate {
  certificateChain: Uint8Array[];
  privateKey: KeyObject;
}

export class CertificateSelector {
  private readonly pairs: ReadonlyArray<{ pair: GatewayCertificate; leaf: ParsedCertificate }>;

  /**
   * @param pairs at least one; the first is the default.
   * @throws SecurityError `bad-certificate` when a leaf cannot be parsed (the caller names the file).
   */
  constructor(pairs: readonly GatewayCertificate[]) {
    if (pairs.length === 0) throw new RangeError('CertificateSelector needs at least one certificate');
    this.pairs = pairs.map((pair) => {
      const der = pair.certificateChain[0];
      if (der === undefined) throw new RangeError('a gateway certificate chain must hold its leaf first');
      return { pair, leaf: parseCertificate(der) };
    });
  }

  /** The pair for `serverName` (the SNI; null without one): the first that names it, else the first. */
  select(serverName: string | null): GatewayCertificate {
    const first = this.pairs[0]!.pair;
    if (serverName === null || serverName === '') return first;
    for (const { pair, leaf } of this.pairs) {
      const match = matchIdentity(leaf, { domain: serverName });
      if (match.ok && match.type === 'dns-id') return pair;
    }
    return first;
  }
}
