/** A command that cannot be carried out, worded for a person; `code` is stable across releases. */
export class CoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CoreError';
    this.code = code;
  }
}
