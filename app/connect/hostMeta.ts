/**
 * Host-meta documents (RFC 6415) as XMPP uses them: XEP-0487 "Host Meta 2" links to direct TLS and
 * QUIC endpoints, and XEP-0156 links to BOSH and WebSocket (which Quiver does not use: they are
 * recorded as seen, never turned into candidates).
 *
 * Pure functions of the fetched documents; discovery.ts does the fetching, over HTTPS only
 * (XEP-0487 §3: "host-meta files MUST be fetched only over HTTPS").
 *
 * The XRD form is read with the XMPP stream framer (restricted XML, RFC 6120 §11.1: no DTD, no
 * entity declarations), because XEP-0487 §5 warns "It is *dangerous* from a security perspective to
 * have an XML parser capable of parsing host-meta.xml anywhere in your client" (CVE-2022-0217): a
 * document that needs more than restricted XML is refused, not parsed.
 */
import net from 'node:net';
import type { Transport } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import { XmlFramer } from '../xmpp/xmlFramer.ts';

/** XEP-0487 §2: the c2s link relations Quiver can use, and the transport each means. */
export const REL_TLS = 'urn:xmpp:alt-connections:tls';
export const REL_QUIC = 'urn:xmpp:alt-connections:quic';
/** XEP-0156 §3 relations: parsed and reported, not used (Quiver speaks neither BOSH nor WebSocket). */
export const REL_WEBSOCKET = 'urn:xmpp:alt-connections:websocket';
export const REL_XBOSH = 'urn:xmpp:alt-connections:xbosh';

/** More links than this is a broken or hostile document; the rest are ignored. */
export const MAX_HOST_META_LINKS = 32;
/** XEP-0487 §3 "ips": at least one; more than this per link is cut. */
export const MAX_IPS_PER_LINK = 8;
/** The biggest XRD text parsed (JSON size is bounded by the fetcher). */
export const MAX_XRD_BYTES = 64 * 1024;
const MAX_NAME_LENGTH = 253;

/** One usable XEP-0487 link. */
export interface HostMetaLink {
  transport: Extract<Transport, 'tls' | 'quic'>;
  rel: string;
  port: number;
  priority: number;
  weight: number;
  /** XEP-0487: "name to send in the TLS/QUIC SNI extension" (lower-cased, no trailing dot). */
  sni: string;
  /** XEP-0487: "IPv4 or IPv6 addresses only, connect to these". */
  ips: string[];
}

export interface HostMeta {
  /** Which document this came from (`host-meta.json` or `host-meta`). */
  format: 'jrd' | 'xrd';
  /** XEP-0487 §3: present when the top-level `xmpp` object is; its `ttl` in seconds. */
  xmpp: { ttl: number | null } | null;
  links: HostMetaLink[];
  /** XEP-0156 BOSH / WebSocket links seen (`rel href`); Quiver does not use them. */
  unused: string[];
  /** Links that were skipped, and why, for the diagnostics. */
  problems: string[];
}

/**
 * Reads a JRD document (RFC 6415 Appendix A) as XEP-0487 and XEP-0156 use it.
 * Never throws for what the server sent: a document that is not a JRD yields no links and a problem.
 */
export function parseHostMetaJson(json: unknown): HostMeta {
  const result: HostMeta = { format: 'jrd', xmpp: null, links: [], unused: [], problems: [] };
  if (!isObject(json)) {
    result.problems.push('host-meta.json is not a JSON object');
    return result;
  }
  if (isObject(json.xmpp)) {
    const ttl = json.xmpp.ttl;
    result.xmpp = { ttl: typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 ? ttl : null };
    if (result.xmpp.ttl === null)
      result.problems.push('host-meta.json: the "xmpp" object has no valid "ttl" (XEP-0487 makes it mandatory)');
  }
  if (json.links === undefined) return result;
  if (!Array.isArray(json.links)) {
    result.problems.push('host-meta.json: "links" is not an array');
    return result;
  }
  if (json.links.length > MAX_HOST_META_LINKS)
    result.problems.push(
      `host-meta.json has ${json.links.length} links; only the first ${MAX_HOST_META_LINKS} are read`,
    );
  json.links.slice(0, MAX_HOST_META_LINKS).forEach((link, index) => readJsonLink(link, index, result));
  return result;
}

function readJsonLink(link: unknown, index: number, result: HostMeta): void {
  if (!isObject(link) || typeof link.rel !== 'string') {
    result.problems.push(`host-meta.json link ${index}: not an object with a "rel"`);
    return;
  }
  const rel = link.rel;
  if (rel === REL_WEBSOCKET || rel === REL_XBOSH) {
    result.unused.push(`${rel} ${typeof link.href === 'string' ? link.href : '(no href)'}`);
    return;
  }
  const transport = rel === REL_TLS ? 'tls' : rel === REL_QUIC ? 'quic' : null;
  if (transport === null) return; // s2s links and relations of other protocols are none of a client's business
  const why = (reason: string) => result.problems.push(`host-meta.json link ${index} (${rel}): ${reason}; skipped`);
  // XEP-0487 §3: "priority" and "weight" - integers - MANDATORY; "sni" - string - MANDATORY;
  // "ips" - at least one MANDATORY; "port" (integer) replaces "href" in Direct TLS/Quic links.
  const { port, priority, weight } = link;
  if (!isU16(port) || port === 0) return void why('"port" is missing or not a port number');
  if (!isU16(priority) || !isU16(weight)) return void why('"priority" and "weight" must be integers 0-65535');
  const sni = typeof link.sni === 'string' ? normalizeName(link.sni) : null;
  if (sni === null) return void why('"sni" is missing or not a host name');
  if (!Array.isArray(link.ips)) return void why('"ips" is missing');
  const ips = [...new Set(link.ips.filter((ip): ip is string => typeof ip === 'string' && net.isIP(ip) !== 0))].slice(
    0,
    MAX_IPS_PER_LINK,
  );
  if (ips.length === 0) return void why('"ips" holds no IPv4 or IPv6 address');
  result.links.push({ transport, rel, port, priority, weight, sni, ips });
}

/**
 * Reads an XRD document (RFC 6415 §3, XEP-0156 §3). XEP-0156 defines only BOSH and WebSocket links
 * there, so the result has `unused` entries and never `links`. Refuses anything beyond restricted
 * XML (a DOCTYPE, entity declarations, processing instructions) with a problem, without parsing it.
 */
export function parseHostMetaXrd(text: string): HostMeta {
  const result: HostMeta = { format: 'xrd', xmpp: null, links: [], unused: [], problems: [] };
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength > MAX_XRD_BYTES) {
    result.problems.push(`host-meta (XRD) is ${bytes.byteLength} bytes, more than the ${MAX_XRD_BYTES} Quiver reads`);
    return result;
  }
  const framer = new XmlFramer({ maxStanzaBytes: MAX_XRD_BYTES, maxDepth: 8 });
  framer.push(bytes);
  let root = false;
  for (let event = framer.next(); event !== undefined; event = framer.next()) {
    if (event.type === 'error') {
      result.problems.push(`host-meta (XRD) is not restricted XML (${event.code}: ${event.detail}); not read`);
      return result;
    }
    if (event.type === 'stream-start') {
      root = event.header.name === 'XRD';
      if (!root) {
        result.problems.push(`host-meta (XRD): the root element is <${event.header.name}>, not <XRD>`);
        return result;
      }
    } else if (event.type === 'element' && event.element.name === 'Link') {
      const rel = event.element.attrs.rel;
      const href = event.element.attrs.href;
      if (rel === REL_WEBSOCKET || rel === REL_XBOSH)
        result.unused.push(`${rel} ${typeof href === 'string' ? href : '(no href)'}`);
      if (result.unused.length >= MAX_HOST_META_LINKS) break;
    }
  }
  if (!root) result.problems.push('host-meta (XRD) holds no <XRD> element');
  return result;
}

/**
 * The candidates a Host Meta 2 document offers. `dnssec` is `insecure`: the document is trusted
 * because it came over verified HTTPS from the JID's domain, not because of DNS; `hostMetaSni` tells
 * the verifier which name that HTTPS fetch delegated the domain to (XEP-0487 §3: "This provides
 * secure delegation, meaning you MUST send the provided SNI and validate that the certificate is
 * valid for that host *or* the XMPP domain").
 */
export function hostMetaCandidates(meta: HostMeta, url: string): Candidate[] {
  return meta.links.map((link) => ({
    transport: link.transport,
    host: link.sni,
    port: link.port,
    priority: link.priority,
    weight: link.weight,
    source: 'host-meta' as const,
    dnssec: 'insecure' as const,
    record: `${url} ${link.rel} ${link.priority} ${link.weight} ${link.port} sni=${link.sni} ips=${link.ips.join(',')}`,
    hostMetaSni: link.sni,
    ips: link.ips,
  }));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isU16(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

function normalizeName(text: string): string | null {
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return null;
  if (!/^[a-z0-9_.-]+$/.test(name) || name.split('.').some((label) => label.length === 0 || label.length > 63))
    return null;
  return name;
}
