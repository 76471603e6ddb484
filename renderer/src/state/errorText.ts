/**
 * Turns a failed call into words for the user. Host errors (`CommandError`) are already worded
 * for a person; anything else is a bug on our side, logged for the developer.
 */
import { CommandError } from '../../../app/contract/api.ts';

export function errorText(error: unknown): string {
  if (error instanceof CommandError) return error.message;
  console.error(error);
  return 'Something went wrong in the Quiver window. Reload it (Ctrl+R) and try again.';
}
