/** Where Quiver keeps its database outside Electron (Electron uses app.getPath('userData')). */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'quiver');
}
