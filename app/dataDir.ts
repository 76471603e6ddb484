/** Where Quiver keeps its database outside Electron (Electron uses app.getPath('userData')). */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $QUIVER_DATA_DIR, else $XDG_DATA_HOME/quiver, else ~/.local/share/quiver. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  if (env['QUIVER_DATA_DIR']) return env['QUIVER_DATA_DIR'];
  const base = env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share');
  return join(base, 'quiver');
}
