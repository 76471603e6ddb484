/**
 * The one base of every error Quiver raises on purpose: a stable, machine-readable `code` (what
 * the UI, the CLI's `--json` output and tests branch on) and a message written for a person
 * ("what happened, and what you can do"). Protocol errors put the RFC's condition in `code`
 * (`see-other-host`, `PROTOCOL_VIOLATION`, `bad-certificate`). Subclasses add only the facts their
 * callers need (a QUIC error code, the candidates a connection tried); `name` is the subclass's.
 */
export class QuiverError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
