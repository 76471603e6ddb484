/**
 * What the stream machine reports to its driver (`ClientStreamMachine.pollEvent()`).
 */
import type { Element } from 'ltx';
import type { ChatState } from './chatStates.ts';
import type { StreamError } from './streamError.ts';
import type { StreamFeatures } from './streamFeatures.ts';

/** RFC 6121 §2.1.2: one roster item. */
export interface RosterItem {
  jid: string;
  name: string | null;
  subscription: 'none' | 'to' | 'from' | 'both' | 'remove';
  /** RFC 6121 §2.1.2.2: ask='subscribe' (a subscription request is pending). */
  ask: boolean;
  groups: string[];
}

/** XEP-0198 §4: a stanza sent and not yet acknowledged by the server, as the exact bytes written. */
export interface UnackedStanza {
  /** The stanza's 'id' attribute (null when it had none). */
  id: string | null;
  xml: string;
}

export type PresenceType =
  'available' | 'unavailable' | 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' | 'error';
export type PresenceShow = 'available' | 'chat' | 'away' | 'xa' | 'dnd';

export type StreamEvent =
  /** <proceed/> received: upgrade the transport now, then call handleTlsUp. */
  | { type: 'tls-required' }
  /**
   * Goal 'features' only: the features the server offers over TLS (after STARTTLS and the
   * verifier, or with direct TLS). The machine stops here; close it.
   */
  | { type: 'features'; features: StreamFeatures }
  | {
      type: 'authenticated';
      mechanism: string;
      channelBinding: 'tls-exporter' | null;
      /** XEP-0388: signed in with SASL2 (absent: RFC 6120 SASL). */
      sasl2?: boolean;
      /** XEP-0386: resource binding was requested inline (Bind 2). */
      bind2?: boolean;
      /** XEP-0484: a FAST token, not the password, signed in. */
      fast?: boolean;
    }
  /**
   * XEP-0484 §3.3: the server issued a FAST token (asked for with `requestFastToken`, or a
   * rotation). Store it with its mechanism (secret like a password); `expiry` is ms since the epoch.
   */
  | { type: 'fast-token'; mechanism: string; token: string; expiry: number }
  | {
      type: 'online';
      /** The full JID the server bound. */
      jid: string;
      /** Namespaces of the children of the last <stream:features/> (after authentication). */
      features: string[];
      /** XEP-0386: features enabled inline with Bind 2 (e.g. XEP-0280 carbons); absent when none. */
      inlineEnabled?: string[];
    }
  | {
      type: 'roster';
      items: RosterItem[];
      ver: string | null;
      /** RFC 6121 §2.6.3: requested with a version and the server answered "no change" (items is then empty). */
      unchanged: boolean;
    }
  | { type: 'roster-push'; item: RosterItem; ver: string | null }
  /**
   * The server answered a XEP-0199 ping (`sendPing`). Any answer proves the stream alive, an error
   * too (§4.2: a server that does not support ping returns service-unavailable).
   */
  | { type: 'pong'; id: string }
  | {
      type: 'presence';
      /** Full or bare JID; a presence without 'from' is from the account itself (RFC 6120 §8.1.2.1). */
      from: string;
      presenceType: PresenceType;
      /** 'available' for an available presence without <show/>; null for the other types. */
      show: PresenceShow | null;
      status: string | null;
      /** RFC 6121 §4.7.2.3: -128..127; 0 when absent or invalid. */
      priority: number;
      stanza: Element;
    }
  | {
      type: 'message';
      /** A message without 'from' is from the account itself (RFC 6120 §8.1.2.1). */
      from: string;
      to: string;
      /** The 'id' attribute (null when absent or empty): unique at most per sending resource. */
      id: string | null;
      /** XEP-0359 <origin-id/> chosen by the sender, or null. */
      originId: string | null;
      /** XEP-0359 <stanza-id/> stamped by the account's own server ('by' = our bare JID), or null. */
      serverId: string | null;
      /** RFC 6121 §5.2.2; 'normal' when absent. Messages of type 'error' arrive as 'stanza-error'. */
      messageType: string;
      body: string | null;
      /** XEP-0203: when it was originally sent (ms since the epoch), from its <delay/>; null when not delayed. */
      delay: number | null;
      /**
       * XEP-0184: the sender asks for a receipt. The machine does not answer: the caller sends
       * `sendReceipt(from, id)` once the message is stored. Never set on carbons or archive results.
       */
      receiptRequested: boolean;
      /** XEP-0184: the id of our message this one acknowledges (<received id/>), or null. */
      receiptFor: string | null;
      /** XEP-0085: the chat state it carries, or null. */
      chatState: ChatState | null;
      /**
       * XEP-0280: a carbon copy from another of our devices: 'sent' (ours; `to` is the peer) or
       * 'received'. Archive results sent by the account are 'sent' too. Null for a plain message.
       */
      carbon: 'sent' | 'received' | null;
      /** XEP-0313: a result of our archive query `queryId`; `id` is its archive id (= its stanza-id). */
      archive: { queryId: string; id: string } | null;
      /** The whole stanza (for carbons and archive results: the forwarded message), for later XEPs. */
      stanza: Element;
    }
  /**
   * The stream's features changed while online: after a resumption inside SASL2, the features that
   * follow <success/> (XEP-0388 §2.5) arrive after 'resumed' (CSI, ... are known from now on).
   */
  | { type: 'features-changed'; features: string[] }
  /** A stanza dropped on purpose (a forged carbon, an unsolicited archive result): worth a log line. */
  | { type: 'stanza-ignored'; reason: string; from: string | null }
  /**
   * The answer to a `sendRequest` IQ: `ok` for a result (`result` is the whole IQ), else the
   * stanza error's condition and text.
   */
  | { type: 'iq-answer'; id: string; ok: boolean; condition: string | null; text: string | null; result: Element }
  /**
   * XEP-0191 §3.3/§3.4: the server pushed a block list change (the reply is sent). `all`: everyone
   * was unblocked (§3.5); `dropped`: items not taken (invalid, or beyond the bound).
   */
  | { type: 'block-push'; block: boolean; jids: string[]; all: boolean; dropped: number }
  /** XEP-0280 §4: the server enabled carbons (`enableCarbons`). */
  | { type: 'carbons-enabled'; id: string }
  /** XEP-0280 §4: the server refused to enable carbons (a stanza error condition). */
  | { type: 'carbons-failed'; id: string; condition: string }
  /**
   * XEP-0313 §4.3: the archive query `queryId` is over (its results arrived before, as 'message'
   * events with `archive`). `complete`: nothing more to page; `first`/`last`: the archive ids of
   * the page's first and last results; `count`: the size of the whole set when the server says.
   */
  | {
      type: 'archive-page';
      queryId: string;
      complete: boolean;
      first: string | null;
      last: string | null;
      count: number | null;
    }
  /** XEP-0313: the archive query `queryId` failed (a stanza error condition, e.g. item-not-found). */
  | { type: 'archive-failed'; queryId: string; condition: string }
  | {
      type: 'stanza-error';
      id: string | null;
      /** RFC 6120 §8.3.3 condition, 'undefined-condition' when none could be read. */
      condition: string;
      text: string | null;
      stanzaKind: 'message' | 'presence' | 'iq';
      from: string | null;
    }
  /**
   * XEP-0198 §3: the server enabled stream management. `resume`: the stream can be resumed under
   * `id` (keep `streamManagementState()` when it ends); `max` (seconds) and `location` are the
   * server's preferences for that, null when not given.
   */
  | { type: 'sm-enabled'; id: string | null; resume: boolean; max: number | null; location: string | null }
  /** XEP-0198 §3: the server refused to enable stream management (a stanza error condition). */
  | { type: 'sm-failed'; condition: string }
  /**
   * XEP-0198 §4: the server acknowledged `count` more of our stanzas as handled (stored, delivered
   * or routed); `ids` are the 'id' attributes of those that had one, oldest first.
   */
  | { type: 'sm-acked'; ids: string[]; count: number }
  /**
   * XEP-0198 §4: Quiver answered the server's <r/> with <a h/>: the server may now drop the `h`
   * stanzas it covers from its queue (written right after this event is handled). A state saved
   * for a later resumption must count them too: Prosody refuses a <resume h/> below an <a h/>.
   */
  | { type: 'sm-ack-sent'; h: number }
  /**
   * XEP-0198 §5: the former stream `previd` was resumed; it replaces 'online' (the session is
   * online again, bound to `jid`). The machine already resent what the server had not handled.
   * §5: the client "SHOULD NOT request the roster" and "SHOULD NOT resend presence stanzas".
   */
  | {
      type: 'resumed';
      jid: string;
      previd: string;
      features: string[];
      /** The server's count of our former stream's stanzas it handled (the <resumed h/>). */
      h: number;
    }
  /**
   * XEP-0198 §5: the former stream cannot be resumed (`condition`: the server's, or
   * 'feature-not-implemented' when it no longer offers stream management). The machine goes on
   * with resource binding; once 'online', send `unacked` again under the same ids.
   */
  | {
      type: 'resume-failed';
      condition: string;
      unacked: UnackedStanza[];
      /** §5: what the server said it handled before the session timed out (<failed h/>), or null. */
      h: number | null;
    }
  /** Fatal: the machine is now closing; a 'closed' event follows. */
  | { type: 'error'; error: StreamError }
  /** The stream is over; `error` is null after an orderly close. Flush pollTransmit, then end the transport. */
  | { type: 'closed'; error: StreamError | null };
