/** Files the `quiver` command reads: CA certificates and password files. */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
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

/**
 * A password file must be readable by its owner only, like ssh's private keys. The file is opened
 * once and the mode checked on that descriptor (`fstat`), as `FileSecretStore` does: a `stat` of
 * the path followed by a read of the path would check one file and read another if it is swapped
 * in between.
 */
export function readPrivateFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new UsageError(`cannot read the password file ${file}: ${(error as Error).message}`);
  }
  try {
    const { mode } = fstatSync(fd);
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new UsageError(
        `the password file ${file} may be read by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${file}`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
