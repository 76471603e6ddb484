/**
 * What the core does with an incoming chat message: store it unless it is a redelivery of one
 * already stored, tell the UI, and log a line when a sender reuses an id with other content.
 * Which ids may recognise a redelivery is decided in `app/xmpp/stanzaIds.ts` (XEP-0359) and
 * `app/storage/messages.ts`; the 'id' attribute is never one of them.
 */
import type { EventEnvelope } from '../contract/index.ts';
import type { IncomingMessage } from '../connect/accountSession.ts';
import type { Storage } from '../storage/storage.ts';

export interface IncomingMessageDeps {
  storage: Storage;
  emit(event: EventEnvelope): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
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

/** Stores `incoming` for the account (its bare JID `accountJid`); emits `message.added` when stored. */
export function storeIncomingMessage(
  deps: IncomingMessageDeps,
  accountId: string,
  accountJid: string,
  incoming: IncomingMessage,
): void {
  const { message, inserted, idReused } = deps.storage.insertMessage({
    accountId,
    peer: incoming.from,
    sender: incoming.from,
    direction: 'in',
    body: incoming.body,
    stanzaId: incoming.id,
    originId: incoming.originId,
    serverId: incoming.serverId,
    at: Date.now(),
    state: 'received',
  });
  if (idReused) {
    // Never merge differing content silently: both are stored, and this says why there are two.
    deps.log(
      'warn',
      `${accountJid}: kept a message from ${quote(incoming.from)} that reuses the ${idReused.kind} ` +
        `${quote(idReused.id)} of stored message ${idReused.storedId} with other content (both are shown)`,
    );
  }
  if (inserted) deps.emit({ name: 'message.added', payload: { message } });
}
