/**
 * A search snippet split into plain and marked parts. The core marks the matched words between
 * U+0002 and U+0003 (SearchResult's MessageHit.snippet), so the UI can show them in <mark> as
 * text nodes, never as HTML built from a message.
 */
export interface SnippetPart {
  text: string;
  marked: boolean;
}

export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let marked = false;
  let text = '';
  const flush = () => {
    if (text) parts.push({ text, marked });
    text = '';
  };
  for (const ch of snippet) {
    if (ch === '\u0002' || ch === '\u0003') {
      flush();
      marked = ch === '\u0002';
    } else text += ch;
  }
  flush();
  return parts;
}
