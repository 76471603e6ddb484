/**
 * One log record, one line. Log lines carry text from the network (a server's stream-error
 * <text/>, a JID, a certificate name, an error message that quotes them); a line break in it would
 * let the sender write a line that looks like one of ours, and a terminal escape sequence would let
 * it rewrite what the terminal shows. Every log sink writes through `formatLogLine`, so no call
 * site has to remember to escape what it quotes.
 */

/**
 * Code points a log line must not carry raw: C0 controls (TAB, LF and CR included), DEL, C1
 * controls (NEL, U+0085, is a line break to some readers), the Unicode line and paragraph
 * separators, and the bidirectional embeddings, overrides and isolates that can reorder what a
 * reader sees.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character written as `\uXXXX`. The form is JSON's, so a JSON line
 * stays valid JSON with the same meaning; backslashes are left alone, which makes the function
 * idempotent (a line escaped twice reads the same as once). `keepLineFeeds` is for output that is
 * several lines by design (a report on stdout): every line of it must then come from us.
 */
export function escapeControl(text: string, options: { keepLineFeeds?: boolean } = {}): string {
  return text.replace(CONTROL, (c) =>
    c === '\n' && options.keepLineFeeds ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const MAX_FRAMES = 8;
const MAX_CAUSES = 3;

/** `message`, then what `detail` says (an error with its code, first stack frames and causes), as one line. */
export function formatLogLine(message: string, detail?: unknown): string {
  const line = detail === undefined ? message : `${message}: ${describe(detail, 0)}`;
  return escapeControl(line);
}

function describe(detail: unknown, depth: number): string {
  if (!(detail instanceof Error)) {
    if (typeof detail === 'string') return detail;
    try {
      return JSON.stringify(detail) ?? String(detail);
    } catch (error) {
      // A cycle or a BigInt: the plain string form still says what it was.
      return `${String(detail)} (${(error as Error).message})`;
    }
  }
  const code = (detail as { code?: unknown }).code;
  let text = `${detail.name}${typeof code === 'string' || typeof code === 'number' ? ` [${code}]` : ''}: ${detail.message}`;
  const frames = (detail.stack ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at '))
    .slice(0, MAX_FRAMES);
  if (frames.length > 0) text += ` {${frames.join('; ')}}`;
  if (detail.cause !== undefined && depth < MAX_CAUSES) text += `; caused by ${describe(detail.cause, depth + 1)}`;
  return text;
}

/**
 * Wraps a log sink so that it receives only finished lines: `message` and `detail` folded by
 * `formatLogLine`, no `detail` of its own. The core hands its `log` option through this once, so
 * none of its call sites can forget to escape what it quotes.
 */
export function lineSink<L>(
  sink: (level: L, line: string) => void,
): (level: L, message: string, detail?: unknown) => void {
  return (level, message, detail) => sink(level, formatLogLine(message, detail));
}
