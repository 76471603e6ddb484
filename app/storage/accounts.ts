/** Accounts: the JID, whether it is enabled, its connection settings and (safeStorage only) the password ciphertext. */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { ACCOUNT_COLORS, type AccountSettings, type TransportPreference } from '../contract/viewModels.ts';
import { normalizeBareJid } from './normalizeJid.ts';
import { prepare } from './statements.ts';
import { StorageError } from './storageError.ts';

/** An account as stored. Live state (status, bound JID, error) belongs to the session, not here. */
export interface AccountRow {
  id: string;
  /** Bare JID in stored form (lowercase). */
  jid: string;
  enabled: boolean;
  settings: AccountSettings;
  /** RFC 6121 §2.6 roster version held, null when none. */
  rosterVer: string | null;
  createdAt: number;
  sortOrder: number;
  /** The label the person chose; null: the view shows the default (storage/accountLabel.ts). */
  label: string | null;
  /** `#rrggbb`, given at creation (ACCOUNT_COLORS in turn) or chosen. */
  color: string;
  /** Set when the account was removed but kept for its history (never started, not listed). */
  removedAt: number | null;
}

export interface NewAccount {
  /** Chosen by the caller when a secret is stored under it before the row (core 'account.add'); else a fresh UUID. */
  id?: string;
  jid: string;
  /**
   * safeStorage ciphertext of the password, written by the same INSERT so that the account and
   * its password exist together or not at all. Never a plaintext password.
   */
  passwordBlob?: Uint8Array | null;
  settings?: Partial<AccountSettings>;
  enabled?: boolean;
  /** Milliseconds since the epoch; defaults to now. */
  now?: number;
  label?: string | null;
  /** Defaults to ACCOUNT_COLORS[n % 8], n the number of accounts ever created before this one. */
  color?: string;
}

interface Row {
  id: string;
  jid: string;
  enabled: number;
  resolver: string | null;
  resolver_validates: number;
  extra_ca_pem: string | null;
  transport: TransportPreference;
  roster_ver: string | null;
  created_at: number;
  sort_order: number;
  label: string | null;
  color: string | null;
  removed_at: number | null;
}

const COLUMNS =
  'id, jid, enabled, resolver, resolver_validates, extra_ca_pem, transport, roster_ver, created_at, sort_order, label, color, removed_at';

function toAccount(row: Row): AccountRow {
  return {
    id: row.id,
    jid: row.jid,
    enabled: row.enabled === 1,
    settings: {
      resolver: row.resolver,
      resolverValidates: row.resolver_validates === 1,
      extraCaPem: row.extra_ca_pem,
      transport: row.transport,
    },
    rosterVer: row.roster_ver,
    createdAt: row.created_at,
    sortOrder: row.sort_order,
    label: row.label,
    color: row.color ?? ACCOUNT_COLORS[0],
    removedAt: row.removed_at,
  };
}

function notFound(id: string): StorageError {
  return new StorageError('account-not-found', `There is no account with id ${id}; it may have been removed.`);
}

/** Throws account-not-found unless the account exists. For methods of other tables. */
export function requireAccount(db: Database, id: string): void {
  if (!prepare(db, 'SELECT 1 FROM accounts WHERE id = ?').get(id)) throw notFound(id);
}

function mustGet(db: Database, id: string): AccountRow {
  const account = accountMethods.getAccount(db, id);
  if (!account) throw notFound(id);
  return account;
}

export const accountMethods = {
  /** Adds an account at the end of the list. Throws account-exists if the JID is already there. */
  addAccount(db: Database, input: NewAccount): AccountRow {
    const jid = normalizeBareJid(input.jid);
    const id = input.id ?? randomUUID();
    const s = input.settings ?? {};
    const blob = input.passwordBlob ?? null;
    db.transaction(() => {
      accountMethods.requireNoAccount(db, jid);
      // A removed account kept for its history frees its JID; its history moves to the new one below.
      const kept = prepare<[string], { id: string }>(
        db,
        'SELECT id FROM accounts WHERE jid = ? AND removed_at IS NOT NULL',
      ).get(jid);
      if (kept) prepare(db, `UPDATE accounts SET jid = id || ':removed' WHERE id = ?`).run(kept.id);
      const created = prepare<[], number>(db, `SELECT value FROM account_counters WHERE name = 'created'`)
        .pluck()
        .get() as number;
      prepare(db, `UPDATE account_counters SET value = value + 1 WHERE name = 'created'`).run();
      prepare(
        db,
        `INSERT INTO accounts (id, jid, enabled, resolver, resolver_validates, extra_ca_pem, transport, created_at, sort_order, password_blob, label, color)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(sort_order), -1) + 1 FROM accounts WHERE removed_at IS NULL), ?, ?, ?)`,
      ).run(
        id,
        jid,
        input.enabled === false ? 0 : 1,
        s.resolver ?? null,
        s.resolverValidates ? 1 : 0,
        s.extraCaPem ?? null,
        s.transport ?? 'auto',
        input.now ?? Date.now(),
        blob === null ? null : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength),
        input.label ?? null,
        input.color ?? ACCOUNT_COLORS[created % ACCOUNT_COLORS.length]!,
      );
      if (kept) {
        for (const table of ['messages', 'conversations', 'cli_send_jobs'])
          prepare(db, `UPDATE ${table} SET account_id = ? WHERE account_id = ?`).run(id, kept.id);
        prepare(db, 'DELETE FROM accounts WHERE id = ?').run(kept.id);
      }
    }).immediate();
    return mustGet(db, id);
  },

  /** Throws account-exists when an account for `jid` (any form of it) is stored. */
  requireNoAccount(db: Database, jid: string): void {
    const bare = normalizeBareJid(jid);
    if (prepare(db, 'SELECT 1 FROM accounts WHERE jid = ? AND removed_at IS NULL').get(bare)) {
      throw new StorageError('account-exists', `An account for ${bare} already exists.`);
    }
  },

  getAccount(db: Database, id: string): AccountRow | null {
    const row = prepare<[string], Row>(db, `SELECT ${COLUMNS} FROM accounts WHERE id = ?`).get(id);
    return row ? toAccount(row) : null;
  },

  /** Looks up by JID in any spelling (`Alice@Example.org/phone` finds `alice@example.org`). */
  getAccountByJid(db: Database, jid: string): AccountRow | null {
    const row = prepare<[string], Row>(db, `SELECT ${COLUMNS} FROM accounts WHERE jid = ?`).get(normalizeBareJid(jid));
    return row ? toAccount(row) : null;
  },

  /** All accounts in the user's order, except those removed and kept only for their history. */
  listAccounts(db: Database): AccountRow[] {
    return prepare<[], Row>(
      db,
      `SELECT ${COLUMNS} FROM accounts WHERE removed_at IS NULL ORDER BY sort_order, created_at`,
    )
      .all()
      .map(toAccount);
  },

  /** Accounts removed but kept for their history (listed only through their conversations). */
  listRemovedAccounts(db: Database): AccountRow[] {
    return prepare<[], Row>(db, `SELECT ${COLUMNS} FROM accounts WHERE removed_at IS NOT NULL ORDER BY created_at`)
      .all()
      .map(toAccount);
  },

  /** Sets the label (null: back to the default, storage/accountLabel.ts) and/or colour; an absent key is kept. */
  updateAccountLook(db: Database, id: string, look: { label?: string | null; color?: string }): AccountRow {
    const row = mustGet(db, id);
    prepare(db, 'UPDATE accounts SET label = ?, color = ? WHERE id = ?').run(
      look.label === undefined ? row.label : look.label,
      look.color ?? row.color,
      id,
    );
    return mustGet(db, id);
  },

  /**
   * The person's order: `ids` must name every listed (not removed) account exactly once, else
   * StorageError 'invalid-order' and nothing changes. Returns the accounts in the new order.
   */
  reorderAccounts(db: Database, ids: readonly string[]): AccountRow[] {
    return db
      .transaction(() => {
        const current = accountMethods.listAccounts(db).map((a) => a.id);
        const given = new Set(ids);
        if (given.size !== ids.length || ids.length !== current.length || current.some((id) => !given.has(id))) {
          throw new StorageError(
            'invalid-order',
            'The new order must name every account exactly once; the accounts changed meanwhile, so reload the list and try again.',
          );
        }
        ids.forEach((id, n) => prepare(db, 'UPDATE accounts SET sort_order = ? WHERE id = ?').run(n, id));
        return accountMethods.listAccounts(db);
      })
      .immediate();
  },

  /** Changes the given settings and keeps the others (a key that is absent or undefined is kept). */
  updateAccountSettings(db: Database, id: string, patch: Partial<AccountSettings>): AccountRow {
    const given = Object.entries(patch).filter(([, value]) => value !== undefined);
    const next: AccountSettings = { ...mustGet(db, id).settings, ...Object.fromEntries(given) };
    prepare(
      db,
      'UPDATE accounts SET resolver = ?, resolver_validates = ?, extra_ca_pem = ?, transport = ? WHERE id = ?',
    ).run(next.resolver ?? null, next.resolverValidates ? 1 : 0, next.extraCaPem ?? null, next.transport ?? 'auto', id);
    return mustGet(db, id);
  },

  setAccountEnabled(db: Database, id: string, enabled: boolean): AccountRow {
    const r = prepare(db, 'UPDATE accounts SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id);
    if (r.changes === 0) throw notFound(id);
    return mustGet(db, id);
  },

  /**
   * Stores the password as Electron safeStorage ciphertext, or clears it with null. Never pass a
   * plaintext password: other secret stores (file, environment) keep nothing in the database.
   */
  setPasswordBlob(db: Database, id: string, blob: Uint8Array | null): void {
    const value = blob === null ? null : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    const r = prepare(db, 'UPDATE accounts SET password_blob = ? WHERE id = ?').run(value, id);
    if (r.changes === 0) throw notFound(id);
  },

  /** The safeStorage ciphertext, or null when none is stored. Throws account-not-found. */
  getPasswordBlob(db: Database, id: string): Uint8Array | null {
    const row = prepare<[string], { password_blob: Buffer | null }>(
      db,
      'SELECT password_blob FROM accounts WHERE id = ?',
    ).get(id);
    if (!row) throw notFound(id);
    return row.password_blob === null ? null : new Uint8Array(row.password_blob);
  },

  /**
   * Removes the account with its roster and messages; its connection records stay, detached. With
   * `keepHistory` (and `now`), the row stays with `removed_at` set so its messages and conversations
   * remain readable: its password, roster, pins, FAST token, stream-management state and archive
   * position are forgotten (QUIC tickets belong to servers, not accounts), its unsent messages are
   * failed, it is disabled and no longer listed.
   */
  removeAccount(db: Database, id: string, keepHistory: boolean = false, now: number = Date.now()): void {
    if (!keepHistory) {
      const r = prepare(db, 'DELETE FROM accounts WHERE id = ?').run(id);
      if (r.changes === 0) throw notFound(id);
      return;
    }
    db.transaction(() => {
      const r = prepare(
        db,
        'UPDATE accounts SET removed_at = ?, enabled = 0, password_blob = NULL, roster_ver = NULL WHERE id = ? AND removed_at IS NULL',
      ).run(now, id);
      if (r.changes === 0) throw notFound(id);
      for (const table of ['roster_items', 'pins', 'fast_tokens', 'sm_states', 'archive_positions'])
        prepare(db, `DELETE FROM ${table} WHERE account_id = ?`).run(id);
      // What it had not sent stays in the history as not sent: re-adding the address moves the
      // history to the new account, whose outbox must not send words written long before.
      prepare(
        db,
        `UPDATE messages SET state = 'failed', error = 'Not sent: the account was removed before it could send this.'
         WHERE account_id = ? AND direction = 'out' AND state IN ('queued', 'sent')`,
      ).run(id);
    }).immediate();
  },
};
