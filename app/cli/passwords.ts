/** Where `quiver connect` takes each account's password from: files or environment variables, never the command line. */
import { type ParsedArgs, UsageError } from './args.ts';
import { readPrivateFile } from './files.ts';
import type { CliIo } from './cliIo.ts';

/**
 * One password per JID: `--password-file` / `--password-env` given once apply to every JID, given
 * as often as there are JIDs they apply in order (files first, then variables); none: QUIVER_PASSWORD.
 */
export function readPasswords(args: ParsedArgs, io: CliIo, count: number): string[] {
  const files = (args.flags.get('password-file') ?? []).map(([file]) => file!);
  const names = (args.flags.get('password-env') ?? []).map(([name]) => name!);
  const sources = [...files.map((file) => ({ file })), ...names.map((name) => ({ name }))] as (
    { file: string } | { name: string }
  )[];
  if (sources.length === 0) sources.push({ name: 'QUIVER_PASSWORD' });
  if (sources.length !== 1 && sources.length !== count)
    throw new UsageError(`give one password source for all ${count} JIDs, or one per JID (${sources.length} given)`);
  const read = (source: { file: string } | { name: string }): string => {
    if ('file' in source) return readPrivateFile(source.file).replace(/\r?\n$/, '');
    const value = io.env[source.name];
    if (value === undefined || value === '') {
      throw new UsageError(
        `no password: set the environment variable ${source.name} (or give --password-env NAME or --password-file FILE)`,
      );
    }
    return value;
  };
  const values = sources.map(read);
  return Array.from({ length: count }, (_, i) => values[sources.length === 1 ? 0 : i]!);
}
