import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';

function columns(db: Database, table: string): string[] {
  return (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
}

test('0004-posh-cache-anchors keys the POSH cache by domain and anchor set, dropping unkeyed rows and nothing else', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  const version = migrations.findIndex((m) => m.name === 'posh-cache-anchors') + 1;
  assert.equal(version, 4);
  migrate(db, migrations.slice(0, version - 1));
  db.prepare(`INSERT INTO accounts (id, jid, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', 1, 0)`).run();
  db.prepare(`INSERT INTO pins (account_id, domain, spki_sha256, created_at) VALUES ('acc-1', 'alpha.test', ?, 1)`).run(
    'ab'.repeat(32),
  );
  // A row from before: fetched with anchors nobody recorded, so no account may rely on it.
  db.prepare(
    `INSERT INTO posh_cache (domain, url, delegated_from, fingerprints, error, fetched_at, expires_at) VALUES ('alpha.test', 'https://alpha.test/p.json', NULL, '[{"sha-256":"AAAA"}]', NULL, 1, 9999999999999)`,
  ).run();

  assert.deepEqual(migrate(db, migrations.slice(0, version)), [version]);
  assert.equal(schemaVersion(db), version);
  assert.deepEqual(columns(db, 'posh_cache'), [
    'domain',
    'anchor_set',
    'url',
    'delegated_from',
    'fingerprints',
    'error',
    'fetched_at',
    'expires_at',
  ]);
  assert.equal(db.prepare('SELECT count(*) FROM posh_cache').pluck().get(), 0);
  const primaryKey = (db.pragma('table_info(posh_cache)') as { name: string; pk: number }[])
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  assert.deepEqual(primaryKey, ['domain', 'anchor_set']);
  // A lookup is a primary-key search.
  const plan = (
    db
      .prepare(`EXPLAIN QUERY PLAN SELECT * FROM posh_cache WHERE domain = ? AND anchor_set = ?`)
      .all('alpha.test', 'a'.repeat(64)) as { detail: string }[]
  )
    .map((r) => r.detail)
    .join('\n');
  assert.match(plan, /SEARCH posh_cache USING PRIMARY KEY \(domain=\? AND anchor_set=\?\)/);

  const storage = bindStorage(db);
  assert.equal(storage.listPins('acc-1').length, 1);
  assert.equal(storage.getPoshEntry('alpha.test', 'a'.repeat(64)), null);
  db.close();
});
