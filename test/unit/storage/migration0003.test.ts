import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { migrate, schemaVersion } from '../../../app/storage/migrate.ts';
import { migrations } from '../../../app/storage/migrations/index.ts';
import { bindStorage } from '../../../app/storage/storage.ts';

test('0003-resolver-validates applies on a version 2 database: existing accounts do not trust a remote AD bit', () => {
  const db = new Sqlite(':memory:');
  db.pragma('foreign_keys = ON');
  assert.deepEqual(migrate(db, migrations.slice(0, 2)), [1, 2]);
  db.prepare(
    `INSERT INTO accounts (id, jid, resolver, created_at, sort_order) VALUES ('acc-1', 'alice@alpha.test', '192.0.2.53:53', 1, 0)`,
  ).run();

  assert.deepEqual(migrate(db, migrations.slice(0, 3)), [3]);
  assert.equal(schemaVersion(db), 3);
  migrate(db, migrations); // the storage methods read the current schema
  const storage = bindStorage(db);
  assert.deepEqual(storage.getAccount('acc-1')?.settings, {
    resolver: '192.0.2.53:53',
    resolverValidates: false,
    extraCaPem: null,
    transport: 'auto',
  });
  assert.equal(storage.updateAccountSettings('acc-1', { resolverValidates: true }).settings.resolverValidates, true);
  assert.equal(
    storage.addAccount({ jid: 'bob@alpha.test', settings: { resolver: '192.0.2.53:53', resolverValidates: true } })
      .settings.resolverValidates,
    true,
  );
  assert.throws(() => db.prepare(`UPDATE accounts SET resolver_validates = 2`).run(), /CHECK constraint/);
  db.close();
});
