/**
 * What a piece of the client stream (negotiation, the online session) may do to the stream it
 * runs in: queue output for the server and report events to the driver. The stream machine
 * implements it; the pieces never see its queues, its parser or each other.
 */
import type { Element } from 'ltx';
import type { StreamEvent } from './streamEvent.ts';

export interface StreamOutput {
  /** Queues one element (stanza or nonza) for the server, in order with everything else queued. */
  send(el: Element): void;
  /** Queues XML that is already serialized (and only ever ASCII markup or escaped text). */
  write(xml: string): void;
  /** Reports an event to the driver (`pollEvent`). */
  emit(event: StreamEvent): void;
}
