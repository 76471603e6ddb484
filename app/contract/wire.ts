/**
 * The frames a message-based transport (the browser host's WebSocket) carries. Electron IPC does
 * not need them: `ipcRenderer.invoke` already pairs requests and replies.
 *
 * Client -> host: `{ kind: 'invoke', seq, name, args }`.
 * Host -> client: `{ kind: 'result', seq, result }` for each invoke, and `{ kind: 'event', event }`.
 */
import type { Result } from './commands.ts';
import type { EventEnvelope } from './events.ts';

export interface InvokeFrame {
  kind: 'invoke';
  seq: number;
  name: string;
  args: unknown;
}
export interface ResultFrame {
  kind: 'result';
  seq: number;
  result: Result<unknown>;
}
export interface EventFrame {
  kind: 'event';
  event: EventEnvelope;
}
export type HostFrame = ResultFrame | EventFrame;

/** Largest frame either side accepts, in bytes (a chat body is at most 100 000 characters). */
export const MAX_FRAME_BYTES = 1_048_576;

/** Parses a client frame without trusting it; the command's own validator checks `args` later. */
export function parseInvokeFrame(text: string): InvokeFrame | null {
  if (text.length > MAX_FRAME_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the caller answers nothing and closes, so there is nothing to keep.
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const frame = value as Record<string, unknown>;
  if (frame.kind !== 'invoke' || typeof frame.name !== 'string' || !Number.isSafeInteger(frame.seq)) return null;
  return { kind: 'invoke', seq: frame.seq as number, name: frame.name, args: frame.args };
}
