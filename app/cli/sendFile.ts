/**
 * The file of `quiver connect --send-file FILE`: one message per line, in order. Lines end with
 * LF or CRLF; blank lines (nothing but spaces and tabs) are skipped, so a final newline or an
 * empty line adds no empty message. The SHA-256 of the file's bytes names the job: the same file
 * to the same JID is enqueued once per database.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { UsageError } from './args.ts';

/** Larger files are refused: each line is a row and a stanza; this is a test tool, not a bulk mailer. */
export const MAX_SEND_FILE_BYTES = 16 * 1024 * 1024;
export const MAX_SEND_FILE_LINES = 100_000;

export interface SendFile {
  /** SHA-256 of the file's bytes, lowercase hex. */
  sha256: string;
  /** The non-blank lines, without their line ends. */
  bodies: string[];
}

export function readSendFile(file: string): SendFile {
  let bytes: Buffer;
  let fd: number | null = null;
  try {
    // Never more than the limit plus one byte: a huge file, /dev/zero or a pipe is refused after
    // reading MAX_SEND_FILE_BYTES + 1, not read whole first.
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(MAX_SEND_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) break;
    }
    bytes = buffer.subarray(0, length);
  } catch (error) {
    throw new UsageError(`cannot read the --send-file ${file}: ${(error as Error).message}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return parseSendFile(file, bytes);
}

/** The lines of `bytes` (named `file` in errors); throws UsageError for what cannot be sent. */
export function parseSendFile(file: string, bytes: Uint8Array): SendFile {
  if (bytes.length > MAX_SEND_FILE_BYTES)
    throw new UsageError(`the --send-file ${file} is larger than ${MAX_SEND_FILE_BYTES / 1024 / 1024} MiB`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UsageError(`the --send-file ${file} is not UTF-8 text`);
  }
  const bodies: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    // XML 1.0 §2.2 (Char) excludes these: a stanza cannot carry them, so say which line before sending anything.
    // (A fatal UTF-8 decode leaves no lone surrogates.)
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(line))
      throw new UsageError(`line ${i + 1} of ${file} holds a control character that XMPP cannot carry`);
    bodies.push(line);
  }
  if (bodies.length === 0) throw new UsageError(`the --send-file ${file} holds no line to send`);
  if (bodies.length > MAX_SEND_FILE_LINES)
    throw new UsageError(`the --send-file ${file} has more than ${MAX_SEND_FILE_LINES} lines`);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bodies };
}
