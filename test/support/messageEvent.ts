/** A stream's 'message' event as the parser reports it, for tests that feed sessions by hand. */
import { Element } from 'ltx';
import type { StreamEvent } from '../../app/xmpp/streamMachine.ts';

export type MessageEvent = Extract<StreamEvent, { type: 'message' }>;

/** A live chat message from bob@example.org/phone to alice@example.org/quiver-1; `over` changes any field. */
export function messageEvent(over: Partial<MessageEvent> = {}): MessageEvent {
  return {
    type: 'message',
    from: 'bob@example.org/phone',
    to: 'alice@example.org/quiver-1',
    id: 'b-1',
    originId: 'b-1',
    serverId: null,
    messageType: 'chat',
    body: 'hi',
    delay: null,
    receiptRequested: false,
    receiptFor: null,
    chatState: null,
    carbon: null,
    archive: null,
    stanza: new Element('message'),
    ...over,
  };
}
