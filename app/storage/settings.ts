/** Global settings as key/value JSON. `GlobalSettings` names the keys the core uses. */
import type { Database } from 'better-sqlite3';
import { prepare } from './statements.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Settings that apply to every account unless the account overrides them. */
export interface GlobalSettings {
  /** DNS resolver as HOST:PORT; null means the system's. */
  resolver: string | null;
  /** Extra trust anchors (PEM) for every account. */
  extraCaPem: string | null;
}

const GLOBAL_DEFAULTS: GlobalSettings = { resolver: null, extraCaPem: null };

function get(db: Database, key: string): JsonValue | undefined {
  const row = prepare<[string], { value: string }>(db, 'SELECT value FROM settings WHERE key = ?').get(key);
  return row ? (JSON.parse(row.value) as JsonValue) : undefined;
}

export const settingMethods = {
  /** The stored value, or null when the key was never set. */
  getSetting(db: Database, key: string): JsonValue | null {
    return get(db, key) ?? null;
  },

  setSetting(db: Database, key: string, value: JsonValue): void {
    prepare(
      db,
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, JSON.stringify(value));
  },

  deleteSetting(db: Database, key: string): void {
    prepare(db, 'DELETE FROM settings WHERE key = ?').run(key);
  },

  getGlobalSettings(db: Database): GlobalSettings {
    const resolver = get(db, 'resolver');
    const extraCaPem = get(db, 'extraCaPem');
    return {
      resolver: typeof resolver === 'string' ? resolver : GLOBAL_DEFAULTS.resolver,
      extraCaPem: typeof extraCaPem === 'string' ? extraCaPem : GLOBAL_DEFAULTS.extraCaPem,
    };
  },

  /** Changes the given global settings and returns all of them. */
  updateGlobalSettings(db: Database, patch: Partial<GlobalSettings>): GlobalSettings {
    db.transaction(() => {
      for (const key of Object.keys(GLOBAL_DEFAULTS) as (keyof GlobalSettings)[]) {
        if (patch[key] !== undefined) settingMethods.setSetting(db, key, patch[key]);
      }
    }).immediate();
    return settingMethods.getGlobalSettings(db);
  },
};
