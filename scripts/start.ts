/**
 * `npm start`: builds Quiver (`electron-vite build`) and runs it in Electron. Where the Electron
 * runtime is missing (the `electron` package without its downloaded binary, or a binary that will
 * not start), serves the same UI from the browser host (app/host/browserHost.ts) with the real
 * core instead, until Ctrl-C.
 *
 *   npm start -- [--port N] [--data-dir DIR] [--no-open] [--no-build]
 *
 * The data directory is --data-dir, else $QUIVER_DATA_DIR, else $XDG_DATA_HOME/quiver
 * (~/.local/share/quiver). In the browser host, passwords live in DATA_DIR/secrets.json (mode 0600),
 * and the browser is opened on a 0600 launch page in $XDG_RUNTIME_DIR/quiver (else DATA_DIR/run).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreOptions, QuiverCore } from '../app/core.ts';
import { defaultDataDir } from '../app/dataDir.ts';
import type { BrowserHost, BrowserHostOptions } from '../app/host/browserHost.ts';
import { launchPageDir, writeLaunchPage, type LaunchPage } from '../app/host/launchPage.ts';
import { QuiverError } from '../app/contract/quiverError.ts';
import { formatLogLine } from '../app/logLine.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export interface StartArgs {
  port: number;
  dataDir: string;
  open: boolean;
  build: boolean;
}

export class StartUsageError extends QuiverError<'usage'> {
  constructor(message: string, options?: ErrorOptions) {
    super('usage', message, options);
  }
}

/** Parses the flags; throws StartUsageError with a sentence for the user. */
export function parseStartArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): StartArgs {
  const args: StartArgs = { port: 0, dataDir: defaultDataDir(env), open: true, build: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new StartUsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === '--port') {
      const text = value();
      const port = Number(text);
      if (!/^\d+$/.test(text) || port > 65_535)
        throw new StartUsageError(`--port must be a number from 0 to 65535, not ${text}`);
      args.port = port;
    } else if (flag === '--data-dir') args.dataDir = resolve(value());
    else if (flag === '--no-open') args.open = false;
    else if (flag === '--no-build') args.build = false;
    else throw new StartUsageError(`unknown option ${flag}; use --port N, --data-dir DIR, --no-open or --no-build`);
  }
  return args;
}

/**
 * The Electron executable the `electron` package would run, or null when it was never downloaded.
 * Mirrors node_modules/electron/index.js without `require`-ing it: that file starts a download
 * when the binary is missing, which cannot work here.
 */
export function electronBinary(
  root: string = PROJECT_ROOT,
  env: Record<string, string | undefined> = process.env,
): string | null {
  const pkg = join(root, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const binary = env['ELECTRON_OVERRIDE_DIST_PATH']
    ? join(env['ELECTRON_OVERRIDE_DIST_PATH'], relative)
    : join(pkg, 'dist', relative);
  return existsSync(binary) ? binary : null;
}

/** Runs a command with our stdio; resolves with its exit code, or rejects when it cannot start. */
function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: PROJECT_ROOT });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
    const done = () => process.off('SIGINT', onInt).off('SIGTERM', onTerm);
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      done();
      resolvePromise(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
    });
  });
}

export interface ServeDeps {
  createCore(options: CoreOptions): Promise<QuiverCore>;
  startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost>;
  /** Makes the secrets.json store for the data directory. */
  secretStore(path: string): CoreOptions['secrets'];
  print(line: string): void;
  /** Given a `file:` URL of the launch page, never the token itself. */
  openUrl(url: string): void;
}

/**
 * Serves Quiver from the browser host with the real core. Resolves with a `stop()` that closes the
 * host, then the core (its streams and the database), and deletes the launch page.
 *
 * The token never goes on a command line (the opener's arguments are visible to every local user)
 * nor to stdout: the browser is pointed at a 0600 launch page (app/host/launchPage.ts) that
 * carries it.
 */
export async function serveInBrowser(
  args: StartArgs,
  staticDir: string,
  deps: ServeDeps,
  env: Record<string, string | undefined> = process.env,
): Promise<{ url: string; launchPage: string; stop(): Promise<void> }> {
  const core = await deps.createCore({
    dataDir: args.dataDir,
    secrets: deps.secretStore(join(args.dataDir, 'secrets.json')),
    log: (level, message, detail) => {
      if (level !== 'debug') console.error(formatLogLine(`quiver [${level}] ${message}`, detail));
    },
  });
  let host: BrowserHost;
  let launch: LaunchPage;
  try {
    host = await deps.startBrowserHost({
      core,
      staticDir,
      port: args.port,
      log: (message, detail) => console.error(formatLogLine(`quiver: ${message}`, detail)),
    });
  } catch (error) {
    await core.close();
    throw error;
  }
  try {
    launch = await writeLaunchPage(launchPageDir(args.dataDir, env), host.url);
  } catch (error) {
    await host.close();
    await core.close();
    throw error;
  }
  deps.print(
    `Electron runtime not available on this machine; serving Quiver at http://127.0.0.1:${host.port}/ instead ` +
      `(open ${launch.fileUrl}, readable only by you, to sign in to it; Ctrl-C to stop)`,
  );
  if (args.open) deps.openUrl(launch.fileUrl);
  return {
    url: host.url,
    launchPage: launch.path,
    async stop() {
      await launch.remove();
      await host.close();
      await core.close();
    },
  };
}

function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.once('error', (error) =>
    console.error(`quiver: could not open a browser (${error.message}); open the address above yourself.`),
  );
  child.unref();
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: StartArgs;
  try {
    args = parseStartArgs(argv);
  } catch (error) {
    if (!(error instanceof StartUsageError)) throw error;
    console.error(`quiver start: ${error.message}`);
    return 2;
  }
  if (args.build) {
    const code = await run(process.execPath, [
      join(PROJECT_ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'),
      'build',
    ]);
    if (code !== 0) return code;
  }
  const electron = electronBinary();
  if (electron !== null) {
    try {
      return await run(electron, [PROJECT_ROOT]);
    } catch (error) {
      console.error(`quiver: could not start Electron (${(error as Error).message}).`);
    }
  }

  const [{ createCore }, { startBrowserHost }, { FileSecretStore }] = await Promise.all([
    import('../app/core.ts'),
    import('../app/host/browserHost.ts'),
    import('../app/storage/secretStore.ts'),
  ]);
  const served = await serveInBrowser(args, join(PROJECT_ROOT, 'out', 'renderer'), {
    createCore,
    startBrowserHost,
    secretStore: (path) => new FileSecretStore(path),
    print: (line) => console.log(line),
    openUrl: openInBrowser,
  });
  const signal = await new Promise<NodeJS.Signals>((resolvePromise) => {
    process.once('SIGINT', () => resolvePromise('SIGINT'));
    process.once('SIGTERM', () => resolvePromise('SIGTERM'));
  });
  console.error(`quiver: ${signal}, closing connections and the database…`);
  await served.stop();
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error('quiver start failed:', error);
      process.exit(1);
    },
  );
}
