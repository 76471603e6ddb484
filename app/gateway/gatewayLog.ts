/**
 * What `quiver gateway` logs: one record when a QUIC connection ends, so an operator can tell who
 * was connected, when, to which name, for how long, and why it ended; with `verbose` also one when
 * it is up (its handshake completed). The close record stands alone (it holds the open time).
 * Connections refused at the connection limit are counted, one `refused` record per interval at
 * most, so spoofed Initials cannot flood the log. Remote text (SNI, close reasons)
 * passes through `app/logLine.ts`, so a client cannot forge or rewrite a line.
 */
import { formatLogLine } from '../logLine.ts';

export interface ConnectionFacts {
  /** A number counting connections from 1, to pair the open and close records. */
  id: number;
  /** The client's address, `host:port` (IPv6 in brackets). */
  remote: string;
  /** The server_name the client sent; '' when none (or before the handshake got that far). */
  sni: string;
  /** The ALPN protocol agreed; null before the handshake completed. */
  alpn: string | null;
}

export type GatewayLogRecord =
  | ({ type: 'open'; time: string } & ConnectionFacts)
  | { type: 'refused'; time: string; since: string; count: number; reason: string }
  | ({
      type: 'close';
      time: string;
      /** When the connection was accepted (ISO 8601). */
      opened: string;
      durationMs: number;
      /** Streams the client opened (each was one TCP connection to the server). */
      streams: number;
      /** Bytes from the client to the server, and back, summed over the streams. */
      bytesUp: number;
      bytesDown: number;
      reason: string;
    } & ConnectionFacts);

/** The record as one line a person reads (`json` false) or as one JSON object. Escaped either way. */
export function formatGatewayRecord(record: GatewayLogRecord, json: boolean): string {
  if (json) return formatLogLine(JSON.stringify(record));
  if (record.type === 'refused')
    return formatLogLine(
      `${record.time} refused count=${record.count} since=${record.since} reason=${JSON.stringify(record.reason)}`,
    );
  const head = `${record.time} conn=${record.id} ${record.type} ${record.remote} sni=${token(record.sni)} alpn=${record.alpn ?? '-'}`;
  if (record.type === 'open') return formatLogLine(head);
  return formatLogLine(
    `${head} opened=${record.opened} duration=${(record.durationMs / 1000).toFixed(3)}s streams=${record.streams} up=${record.bytesUp} down=${record.bytesDown} reason=${JSON.stringify(record.reason)}`,
  );
}

/** A name as it is when it is a plain host name, quoted otherwise (a client chooses its SNI). */
function token(text: string): string {
  if (text === '') return '-';
  return /^[A-Za-z0-9._-]+$/.test(text) ? text : JSON.stringify(text);
}
