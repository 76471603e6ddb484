/** A message as the one line the `quiver` command prints on stderr: line breaks become spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
