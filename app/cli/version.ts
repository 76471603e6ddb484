/** `quiver --version`: the version in Quiver's package.json, the one file that states it. */
import { readFileSync } from 'node:fs';

export function quiverVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  if (typeof manifest.version !== 'string') throw new Error('package.json states no version');
  return manifest.version;
}
