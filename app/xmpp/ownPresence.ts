/**
 * RFC 6121 §4.2 / §4.7: the presence the account announces, built from what the person chose
 * (available, away, do not disturb, with a status message). Pure.
 */
import type { OutgoingPresence } from './stanzas.ts';

/** What the person chose (AccountView.presence). */
export interface OwnPresenceChoice {
  show: 'available' | 'away' | 'dnd';
  status: string | null;
}

/** RFC 6121 §4.7.2.2: a status is human-readable text; longer ones are cut to this many characters. */
export const MAX_STATUS_LENGTH = 1000;

/**
 * The available presence (no 'to': broadcast by the server, §4.2.2). RFC 6121 §4.7.2.1: "If no
 * <show/> element is provided, the entity is assumed to be online and available"; 'away' and
 * 'dnd' are sent as <show/>.
 */
export function ownPresence(choice: OwnPresenceChoice): OutgoingPresence {
  const status = choice.status?.trim().slice(0, MAX_STATUS_LENGTH);
  const p: OutgoingPresence = {};
  if (choice.show !== 'available') p.show = choice.show;
  if (status) p.status = status;
  return p;
}
