/** Files the `quiver` command reads: CA certificates and password files. */
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from './args.ts';

/** A PEM file of one or more CA certificates (`--ca`). */
export function readCa(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the CA file ${file}: ${(error as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${file} holds no PEM certificate`);
  return text;
}

/** A password file must be readable by its owner only, like ssh's private keys. */
export function readPrivateFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    throw new UsageError(`cannot read the password file ${file}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) throw new UsageError(`the password file ${file} may be read by others; run chmod 600 ${file}`);
  return readFileSync(file, 'utf8');
}
