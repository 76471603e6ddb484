/**
 * What the core does with an incoming chat message: store it unless it is a redelivery of one
 * already stored, tell the UI, and log a line when a sender reuses an id with other content.
 * Which ids may recognise a redelivery is decided in `app/xmpp/stanzaIds.ts` (XEP-0359) and
 * `app/storage/messages.ts`; the 'id' attribute is never one of them.
 */
import type { EventEnvelope } from '../contract/index.ts';
import { FLOOR_TOLERANCE_MS, type IncomingMessage, type StoreResult } from '../connect/sessionMessaging.ts';
import type { Storage } from '../storage/storage.ts';

export interface IncomingMessageDeps {
  storage: Storage;
  emit(event: EventEnvelope): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Told about every stored message's conversation (conversation.changed, batched). Optional for older callers. */
  conversations?: { touched(accountId: string, peer: string): void };
}

/**
 * Quotes text from the network for a log line: JSON escapes C0 controls (a newline cannot start a
 * forged line), and C1 controls, DEL and the Unicode line and paragraph separators are escaped too.
 * Long values are cut.
 */
function quote(remote: string): string {
  const cut = remote.length > 100 ? `${remote.slice(0, 100)}…` : remote;
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Stores `incoming` for the account (its bare JID `accountJid`); emits `message.added` when stored
 * and tells `conversations` (its unread count and last activity moved in the same transaction).
 * A copy of one of our own messages (a XEP-0280 'sent' carbon or an archive result of ours) whose
 * XEP-0359 <origin-id/> (or 'id') is the stanza id of a message this account sent is that message:
 * our ids are generated unique, and carbons and archive results come only from our own server.
 */
export function storeIncomingMessage(
  deps: IncomingMessageDeps,
  accountId: string,
  accountJid: string,
  incoming: IncomingMessage,
  now: number = Date.now(),
): StoreResult {
  if (incoming.direction === 'out') {
    const ourId = incoming.originId ?? incoming.id;
    const ours = ourId === null ? null : deps.storage.findMessageByStanzaId(accountId, 'out', incoming.peer, ourId);
    if (ours && ours.body === incoming.body) {
      // Our server carbon-copied or archived it: it has it, even where no XEP-0198 ack came.
      if (ours.state === 'queued' || ours.state === 'sent')
        deps.emit({ name: 'message.updated', payload: { message: deps.storage.setMessageState(ours.id, 'acked') } });
      return { outcome: 'duplicate', at: ours.at };
    }
  }
  const { message, inserted, idReused } = deps.storage.insertMessage({
    accountId,
    peer: incoming.peer,
    sender: incoming.from,
    direction: incoming.direction,
    body: incoming.body,
    stanzaId: incoming.id,
    originId: incoming.originId,
    serverId: incoming.serverId,
    at: historyTime(incoming, now),
    arrivedAt: now,
    // A copy of ours was stored by the server (it carbon-copied or archived it).
    state: incoming.direction === 'out' ? 'acked' : 'received',
  });
  if (idReused) {
    // Never merge differing content silently: both are stored, and this says why there are two.
    deps.log(
      'warn',
      `${accountJid}: kept a message from ${quote(incoming.from)} that reuses the ${idReused.kind} ` +
        `${quote(idReused.id)} of stored message ${idReused.storedId} with other content (both are shown)`,
    );
  }
  if (inserted) {
    deps.emit({ name: 'message.added', payload: { message } });
    deps.conversations?.touched(accountId, message.peer);
  }
  return { outcome: inserted ? 'stored' : 'duplicate', at: message.at };
}

/**
 * Where a new message goes in the history: XEP-0203's time it was sent when it says so (never in
 * the future of this clock), else now; and no earlier than `notBefore` (an archive result goes
 * after what came before it in the archive) when that is at most FLOOR_TOLERANCE_MS later, even
 * should the floor be ahead of this clock (set back by less than that since).
 */
export function historyTime(incoming: Pick<IncomingMessage, 'sentAt' | 'notBefore'>, now: number): number {
  const sent = incoming.sentAt === null ? now : Math.min(incoming.sentAt, now);
  const floor = incoming.notBefore;
  return floor !== null && floor > sent && floor - sent <= FLOOR_TOLERANCE_MS ? floor : sent;
}
