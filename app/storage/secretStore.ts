/**
 * Where account passwords live when they are not in the database. The Electron app uses
 * safeStorage (main/, through Storage.setPasswordBlob); the CLI, the browser host and tests use
 * the stores here: a private JSON file or environment variables. Neither writes to the database.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { normalizeBareJid } from './normalizeJid.ts';
import { QuiverError } from '../contract/quiverError.ts';

export interface SecretStore {
  /** The password for the account, or null when this store has none. */
  get(accountId: string, jid: string): Promise<string | null>;
  set(accountId: string, jid: string, password: string): Promise<void>;
  delete(accountId: string, jid: string): Promise<void>;
  /**
   * Only for a store whose secret lives in the account's database row (Electron safeStorage): the
   * value to write with the new row, so that one transaction stores the account and its secret.
   * Stores without it keep secrets elsewhere, and `set` is called before the row is inserted.
   */
  sealForNewAccount?(password: string): Promise<Uint8Array>;
  /** Names the store in logs and the UI: 'file', 'env', 'safeStorage', … */
  readonly kind: string;
}

export type SecretStoreErrorCode = 'secret-file-permissions' | 'secret-file-invalid' | 'secret-store-read-only';

export class SecretStoreError extends QuiverError<SecretStoreErrorCode> {}

/** The file's shape. Keys of `accounts` are account ids; `jid` lets a person read and edit it. */
interface SecretFile {
  version: 1;
  accounts: Record<string, { jid: string; password: string }>;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}

/**
 * Passwords in a JSON file only its owner may read. Created with mode 0600; a file that group or
 * others may access is refused (not silently fixed: someone may already have read it). Writes go
 * to a 0600 temporary file in the same directory that is then renamed over the old one, so a crash
 * leaves either the old file or the new one, never half of one. Operations on one instance are
 * serialized; two processes writing the same file may lose one update (last rename wins).
 */
export class FileSecretStore implements SecretStore {
  readonly kind = 'file';
  readonly path: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  get(accountId: string, jid: string): Promise<string | null> {
    return this.#serial(async () => {
      const file = await this.#read();
      const byId = file.accounts[accountId];
      if (byId) return byId.password;
      // A hand-written file may not know the account id yet: fall back to the JID.
      const bare = normalizeBareJid(jid);
      const byJid = Object.values(file.accounts).find((e) => normalizeBareJid(e.jid) === bare);
      return byJid ? byJid.password : null;
    });
  }

  set(accountId: string, jid: string, password: string): Promise<void> {
    return this.#serial(async () => {
      const file = await this.#read();
      file.accounts[accountId] = { jid: normalizeBareJid(jid), password };
      await this.#write(file);
    });
  }

  /** Removes the account's entry, and any other entry for the same JID. */
  delete(accountId: string, jid: string): Promise<void> {
    return this.#serial(async () => {
      const file = await this.#read();
      const bare = normalizeBareJid(jid);
      const keep = Object.entries(file.accounts).filter(
        ([id, e]) => id !== accountId && normalizeBareJid(e.jid) !== bare,
      );
      if (keep.length === Object.keys(file.accounts).length) return;
      await this.#write({ version: 1, accounts: Object.fromEntries(keep) });
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #read(): Promise<SecretFile> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if (isNotFound(error)) return { version: 1, accounts: {} };
      throw error;
    }
    try {
      // fstat on the open file, not stat on the path: the mode checked is the mode of what is read.
      const info = await handle.stat();
      // POSIX modes mean nothing on Windows, where the profile directory's ACL protects the file.
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
        throw new SecretStoreError(
          'secret-file-permissions',
          `The password file ${this.path} can be read by other users (mode ${mode}). ` +
            `Run \`chmod 600 ${this.path}\`, consider changing the passwords it holds, and try again.`,
        );
      }
      return this.#parse(await handle.readFile('utf8'));
    } finally {
      await handle.close();
    }
  }

  #parse(text: string): SecretFile {
    const invalid = (cause?: unknown) =>
      new SecretStoreError(
        'secret-file-invalid',
        `The password file ${this.path} is not in Quiver's format ({"version": 1, "accounts": {…}}). Fix or remove it.`,
        { cause },
      );
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw invalid(error);
    }
    const file = data as Partial<SecretFile> | null;
    if (
      typeof file !== 'object' ||
      file === null ||
      file.version !== 1 ||
      typeof file.accounts !== 'object' ||
      file.accounts === null
    ) {
      throw invalid();
    }
    for (const entry of Object.values(file.accounts)) {
      if (typeof entry?.jid !== 'string' || typeof entry.password !== 'string') throw invalid();
    }
    return { version: 1, accounts: { ...file.accounts } };
  }

  async #write(file: SecretFile): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const temp = join(dir, `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tmp`);
    // O_EXCL: never write through a file (or symlink) someone else put at the temporary name.
    const handle = await open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, FILE_MODE);
    try {
      try {
        await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch((cleanup: unknown) => {
        if (!isNotFound(cleanup)) throw new AggregateError([error, cleanup], `could not write ${this.path}`);
      });
      throw error;
    }
  }
}

export interface EnvSecretStoreOptions {
  /** The environment to read; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Per-account variables: bare JID -> variable name. */
  vars?: Record<string, string>;
  /** The variable used for a JID without its own; default QUIVER_PASSWORD. */
  defaultVar?: string;
}

/**
 * Read-only passwords from environment variables, for the CLI, CI and the lab. A JID listed in
 * `vars` reads its own variable; every other JID reads `defaultVar`.
 */
export class EnvSecretStore implements SecretStore {
  readonly kind = 'env';
  readonly #env: Record<string, string | undefined>;
  readonly #vars: Map<string, string>;
  readonly #defaultVar: string;

  constructor(options: EnvSecretStoreOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#vars = new Map(Object.entries(options.vars ?? {}).map(([jid, name]) => [normalizeBareJid(jid), name]));
    this.#defaultVar = options.defaultVar ?? 'QUIVER_PASSWORD';
  }

  /** The variable this JID's password is read from. */
  variableFor(jid: string): string {
    return this.#vars.get(normalizeBareJid(jid)) ?? this.#defaultVar;
  }

  async get(_accountId: string, jid: string): Promise<string | null> {
    const value = this.#env[this.variableFor(jid)];
    return value === undefined || value === '' ? null : value;
  }

  async set(_accountId: string, jid: string, _password: string): Promise<void> {
    throw this.#readOnly(jid);
  }

  async delete(_accountId: string, jid: string): Promise<void> {
    throw this.#readOnly(jid);
  }

  #readOnly(jid: string): SecretStoreError {
    return new SecretStoreError(
      'secret-store-read-only',
      `Quiver reads the password for ${jid} from the environment variable ${this.variableFor(jid)} and cannot change it; ` +
        'change the variable instead.',
    );
  }
}

/**
 * Reads from each store in turn and returns the first password found; `set` and `delete` go to
 * the first store only (put the writable one first, e.g. file then env).
 */
export function chainSecretStores(first: SecretStore, ...rest: SecretStore[]): SecretStore {
  const all = [first, ...rest];
  return {
    kind: all.map((s) => s.kind).join('+'),
    async get(accountId, jid) {
      for (const store of all) {
        const value = await store.get(accountId, jid);
        if (value !== null) return value;
      }
      return null;
    },
    set: (accountId, jid, password) => first.set(accountId, jid, password),
    ...(first.sealForNewAccount ? { sealForNewAccount: (password: string) => first.sealForNewAccount!(password) } : {}),
    delete: (accountId, jid) => first.delete(accountId, jid),
  };
}
