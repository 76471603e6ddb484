/**
 * Every XML namespace the XMPP core speaks, in one place (house style: `NS_SM = 'urn:xmpp:sm:3'`).
 * Sources: RFC 6120 (core), RFC 6121 (IM), the XEP named on each line.
 */

/** RFC 6120 §4.8.2: the stream namespace, bound to the `stream:` prefix. */
export const NS_STREAM = 'http://etherx.jabber.org/streams';
/** RFC 6120 §4.8.3: the content namespace of a client-to-server stream. */
export const NS_CLIENT = 'jabber:client';
/** RFC 6120 §4.9.3: defined conditions of stream errors. */
export const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
/** RFC 6120 §5.4: STARTTLS. */
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** RFC 6120 §6.4: SASL. */
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
/** RFC 6120 §7: resource binding. */
export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
/** RFC 3921 §3 (dropped by RFC 6121, still advertised by servers, usually with <optional/>). */
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
/** RFC 6120 §8.3.2: defined conditions of stanza errors. */
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
/** RFC 6121 §2: the roster. */
export const NS_ROSTER = 'jabber:iq:roster';
/** RFC 6121 §2.6.1: the roster-versioning stream feature. */
export const NS_ROSTER_VER = 'urn:xmpp:features:rosterver';
/** XEP-0199: XMPP Ping. */
export const NS_PING = 'urn:xmpp:ping';
/** XEP-0440: SASL channel-binding type capability. */
export const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';
/** XEP-0388: Extensible SASL Profile (SASL2). */
export const NS_SASL2 = 'urn:xmpp:sasl:2';
/** XEP-0386: Bind 2, offered inside SASL2's <inline/>. */
export const NS_BIND2 = 'urn:xmpp:bind:0';
/** XEP-0198: Stream Management. */
export const NS_SM = 'urn:xmpp:sm:3';
/** XEP-0359: Unique and Stable Stanza IDs (<stanza-id/>, <origin-id/>). */
export const NS_SID = 'urn:xmpp:sid:0';
/** XEP-0184: Message Delivery Receipts. */
export const NS_RECEIPTS = 'urn:xmpp:receipts';
/** XEP-0280: Message Carbons. */
export const NS_CARBONS = 'urn:xmpp:carbons:2';
/** XEP-0297: Stanza Forwarding. */
export const NS_FORWARD = 'urn:xmpp:forward:0';
/** XEP-0203: Delayed Delivery. */
export const NS_DELAY = 'urn:xmpp:delay';
/** XEP-0085: Chat State Notifications. */
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
/** XEP-0352: Client State Indication (stream feature and nonzas). */
export const NS_CSI = 'urn:xmpp:csi:0';
/** XEP-0313: Message Archive Management. */
export const NS_MAM = 'urn:xmpp:mam:2';
/** XEP-0059: Result Set Management. */
export const NS_RSM = 'http://jabber.org/protocol/rsm';
/** XEP-0004: Data Forms. */
export const NS_DATA = 'jabber:x:data';
/** XEP-0334: Message Processing Hints. */
export const NS_HINTS = 'urn:xmpp:hints';
/** XEP-0484: Fast Authentication Streamlining Tokens, offered inside SASL2's <inline/>. */
export const NS_FAST = 'urn:xmpp:fast:0';
/** XEP-0191 Blocking Command. */
export const NS_BLOCKING = 'urn:xmpp:blocking';
/** XEP-0030 service discovery, info. */
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
/** XEP-0172 User Nickname. */
export const NS_NICK = 'http://jabber.org/protocol/nick';
