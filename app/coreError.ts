/** A command that cannot be carried out, worded for a person; `code` is stable across releases. */
import { QuiverError } from './contract/quiverError.ts';
export class CoreError extends QuiverError {}
