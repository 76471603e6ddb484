import type { LabPorts } from './ports.ts';
import type { LabCertificate } from './ca.ts';
import { SCENARIOS } from './scenarios.ts';
import { LabError } from './labError.ts';

/** RFC 7711 §3: "/.well-known/posh/{servicedesc}.json", servicedesc "xmpp-client" for c2s. */
export const POSH_PATH = '/.well-known/posh/xmpp-client.json';
/** The path of the POSH drafts before RFC 7711, still probed by some clients. */
export const POSH_DRAFT_PATH = '/.well-known/posh._xmpp-client._tcp.json';
/** XEP-0156 §2.3 / XEP-0487 §2.3: the JRD form of host-meta (RFC 6415 Appendix A). */
export const HOST_META_JSON_PATH = '/.well-known/host-meta.json';

/** RFC 7711 §3.1: "expires" is the number of seconds the document may be cached. */
export const POSH_EXPIRES_SECONDS = 3600;
/** XEP-0487 §2.1: "ttl" in the top-level "xmpp" object, seconds the document may be cached. */
export const HOST_META_TTL_SECONDS = 300;

/** One document the lab's HTTPS server serves, with its JSON body. */
export interface WellKnownDocument {
  /** Host name without port, lower case: "hosted.test". */
  readonly host: string;
  readonly path: string;
  readonly body: unknown;
}

/**
 * The POSH and Host Meta 2 documents of every scenario, generated from SCENARIOS, the lab ports
 * (host-meta links name the direct TLS port) and the issued certificates (POSH fingerprints).
 */
export function wellKnownDocuments(ports: LabPorts, certs: ReadonlyMap<string, LabCertificate>): WellKnownDocument[] {
  const docs: WellKnownDocument[] = [];
  for (const s of SCENARIOS) {
    if (s.posh && 'fingerprintsOf' in s.posh) {
      const cert = certs.get(s.posh.fingerprintsOf);
      if (!cert)
        throw new LabError(
          'bad-state',
          `lab: ${s.domain}: no certificate named ${s.posh.fingerprintsOf} for its POSH document`,
        );
      // RFC 7711 §3.1: "fingerprints": an array of objects, each with one or more hash members
      // ("sha-256", "sha-512") whose values are base64 hashes of the certificate. The DNA draft and
      // deployed clients hash the whole DER certificate.
      docs.push({
        host: s.domain,
        path: s.posh.draftPath ? POSH_DRAFT_PATH : POSH_PATH,
        body: {
          fingerprints: [{ 'sha-256': cert.derSha256Base64, 'sha-512': cert.derSha512Base64 }],
          expires: POSH_EXPIRES_SECONDS,
        },
      });
    } else if (s.posh) {
      // RFC 7711 §3.2: a reference: "url" names the https URL of the document to use instead.
      docs.push({
        host: s.domain,
        path: s.posh.draftPath ? POSH_DRAFT_PATH : POSH_PATH,
        body: { url: s.posh.url, expires: POSH_EXPIRES_SECONDS },
      });
    }
    if (s.hostMetaSni) {
      docs.push({
        host: s.domain,
        path: HOST_META_JSON_PATH,
        body: {
          // XEP-0487 §2.2: the top-level "xmpp" object says this XEP is in use.
          xmpp: { ttl: HOST_META_TTL_SECONDS },
          links: [
            {
              // XEP-0487 §2.1: "port" replaces "href" for Direct TLS; "ips", "priority", "weight"
              // and "sni" are mandatory.
              rel: 'urn:xmpp:alt-connections:tls',
              port: ports.tls,
              ips: ['127.0.0.1'],
              priority: 10,
              weight: 50,
              sni: s.hostMetaSni,
            },
          ],
        },
      });
    }
  }
  return docs;
}
