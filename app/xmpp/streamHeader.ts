/**
 * The stream header (RFC 6120 §4.7): the one the client opens each stream with, and the check of
 * the one the server answers with.
 */
import type { Element } from 'ltx';
import { escapeXML } from 'ltx';
import { NS_CLIENT, NS_STREAM } from './namespaces.ts';
import { localError, type StreamError } from './streamError.ts';

/** Our opening header: the XML declaration and `<stream:stream>` to `domain`, with `from` when given. */
export function clientStreamHeader(domain: string, from: string | null): string {
  const fromAttr = from !== null ? ` from='${escapeXML(from)}'` : '';
  return `<?xml version='1.0'?><stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}' to='${escapeXML(domain)}'${fromAttr} version='1.0' xml:lang='en'>`;
}

/**
 * Checks the server's `<stream:stream>` header. Returns null when it opens an XMPP 1.0 client
 * stream; otherwise the error and the stream-error condition to close with.
 */
export function checkServerHeader(header: Element, domain: string): { error: StreamError; condition: string } | null {
  // RFC 6120 §4.8.1: the stream element is qualified by 'http://etherx.jabber.org/streams';
  // §4.8.2: the content namespace of a client stream is 'jabber:client'.
  if (header.getName() !== 'stream' || header.getNS() !== NS_STREAM || header.attrs.xmlns !== NS_CLIENT) {
    return {
      error: localError(
        'invalid-namespace',
        `${domain} did not answer with an XMPP client stream (invalid-namespace). Check the server address and port.`,
      ),
      condition: 'invalid-namespace',
    };
  }
  // RFC 6120 §4.7.5: a missing version means 0.9, without stream features; we need 1.0.
  const version = typeof header.attrs.version === 'string' ? header.attrs.version : '';
  const major = /^(\d+)\.\d+$/.exec(version);
  if (!major || Number(major[1]) < 1) {
    return {
      error: localError(
        'unsupported-version',
        `${domain} speaks an XMPP version older than 1.0 ("${version}"), which Quiver does not support.`,
      ),
      condition: 'unsupported-version',
    };
  }
  return null;
}
