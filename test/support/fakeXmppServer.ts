/**
 * The server's side of an XMPP login, scripted (RFC 6120 §4 stream, §6 SASL PLAIN, §7 bind), for
 * tests that need a real client to log in without Prosody: over a TLS socket, a QUIC stream or any
 * other byte stream. It checks nothing (any password succeeds) and answers in the order asked.
 */

const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
const BIND = `xmlns='urn:ietf:params:xml:ns:xmpp-bind'`;
const header = (id: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='${id}' from='example.org' version='1.0'>`;

/** One complete top-level element (or stream header) the script understands. */
const ELEMENT =
  /<stream:stream[^>]*>|<auth[^>]*(?:\/>|>[^<]*<\/auth>)|<iq[^>]*(?:\/>|>[\s\S]*?<\/iq>)|<presence[^>]*(?:\/>|>[\s\S]*?<\/presence>)|<message[^>]*(?:\/>|>[\s\S]*?<\/message>)|<(?:enable|resume|r|a) xmlns=["']urn:xmpp:sm:3["'][^>]*\/>/;

/** What a test adds to the login script. */
export interface LoginScript {
  /** The JID bound on a stream whose header named `domain` (its `to`). Default `alice@DOMAIN/q`. */
  boundJid?: (domain: string) => string;
  /** Called on each `<auth/>`, before `<success/>` is written. */
  onAuth?: () => void;
  /** Called on each bind request, before its result is written. */
  onBind?: () => void;
  /** More children of the features offered after authentication (e.g. `<sm xmlns='urn:xmpp:sm:3'/>`). */
  features?: string;
  /**
   * Every other complete `<iq/>`, `<presence/>`, `<message/>` or XEP-0198 element, in order, with its id ('' if none); the test
   * answers it with `write` or ignores it.
   */
  onStanza?: (element: string, id: string, write: (text: string) => void) => void;
}

/**
 * Returns the handler for the bytes the client sends: feed it every chunk, in order. The first
 * stream is offered PLAIN, the one after `<success/>` (the restart) is offered bind; what the
 * script writes goes to `write`.
 */
export function scriptedLogin(write: (text: string) => void, script: LoginScript = {}): (chunk: Uint8Array) => void {
  const boundJid = script.boundJid ?? ((domain: string) => `alice@${domain}/q`);
  const decoder = new TextDecoder();
  let buffer = '';
  let streams = 0;
  let domain = 'example.org';
  return (chunk) => {
    buffer += decoder.decode(chunk, { stream: true });
    for (;;) {
      const m = ELEMENT.exec(buffer);
      if (!m) return;
      buffer = buffer.slice(m.index + m[0].length);
      const el = m[0];
      const id = /\sid=["']([^"']+)["']/.exec(el)?.[1] ?? '';
      if (el.startsWith('<stream:stream')) {
        streams++;
        domain = /\sto=["']([^"']+)["']/.exec(el)?.[1] ?? domain;
        write(
          header(`s${streams}`) +
            (streams === 1
              ? `<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>`
              : `<stream:features><bind ${BIND}/>${script.features ?? ''}</stream:features>`),
        );
      } else if (el.startsWith('<auth')) {
        script.onAuth?.();
        write(`<success ${SASL}/>`);
      } else if (el.includes('urn:ietf:params:xml:ns:xmpp-bind')) {
        script.onBind?.();
        write(`<iq type='result' id='${id}'><bind ${BIND}><jid>${boundJid(domain)}</jid></bind></iq>`);
      } else {
        script.onStanza?.(el, id, write);
      }
    }
  };
}
