/**
 * Child process for accountAddCrash.test.ts: adds accounts through the core's `account.add`, as
 * the UI does, one after another until it is killed, and prints each one's number once added.
 *
 *   node accountAddChild.ts DATA_DIR PREFIX
 *
 * Accounts are on `localhost` with a resolver at 127.0.0.1:9, so the sessions each add starts
 * touch only loopback (and fail at once).
 */
import { join } from 'node:path';
import { createCore } from '../../../app/core.ts';
import { FileSecretStore } from '../../../app/storage/secretStore.ts';

const [dataDir, prefix] = process.argv.slice(2);
if (dataDir === undefined || prefix === undefined) throw new Error('usage: accountAddChild.ts DATA_DIR PREFIX');
const core = await createCore({
  dataDir,
  secrets: new FileSecretStore(join(dataDir, 'secrets.json')),
  autoConnect: false,
});
process.stdout.write('ready\n');
for (let i = 0; i < 10_000; i++) {
  await core.handlers['account.add']({
    jid: `${prefix}-${i}@localhost`,
    password: `password-${i}`,
    resolver: '127.0.0.1:9',
  });
  process.stdout.write(`${i}\n`);
}
