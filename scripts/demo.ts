/**
 * `npm run demo`: a lab server on loopback (Prosody with the demo accounts, DNS, a private CA) and
 * Quiver configured with two of its accounts, in a throwaway data directory. Prints the address to
 * open; Ctrl-C stops everything it started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startLab } from '../test/lab/lab.ts';
import { createCore } from '../app/core.ts';
import { FileSecretStore } from '../app/storage/secretStore.ts';
import { startBrowserHost } from '../app/host/browserHost.ts';

const DEMO_ACCOUNTS = ['alice@alpha.test', 'bob@alpha.test'];

const build = spawnSync(
  process.execPath,
  ['node_modules/vite/bin/vite.js', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'],
  {
    stdio: 'inherit',
  },
);
if (build.status !== 0) process.exit(build.status ?? 1);

console.log('Starting the demo lab (Prosody, DNS, a private CA) on loopback…');
const lab = await startLab({ basePort: Number(process.env.QUIVER_LAB_PORT_BASE ?? 26000) });
const dataDir = mkdtempSync(join(tmpdir(), 'quiver-demo-'));
const core = await createCore({ dataDir, secrets: new FileSecretStore(join(dataDir, 'secrets.json')) });
const online = new Set<string>();
const bothOnline = new Promise<void>((resolve) => {
  core.subscribe((event) => {
    if (event.name !== 'account.changed' || event.payload.account.status !== 'online') return;
    online.add(event.payload.account.jid);
    if (DEMO_ACCOUNTS.every((jid) => online.has(jid))) resolve();
  });
});
const ids: string[] = [];
for (const jid of DEMO_ACCOUNTS) {
  const account = await core.handlers['account.add']({
    jid,
    password: lab.users[jid]!,
    resolver: lab.resolver,
    extraCaPem: lab.caPem,
  });
  ids.push(account.id);
}
// A first message so the chat is not empty: it really goes from one account to the other through Prosody.
void bothOnline.then(() =>
  core.handlers['chat.send']({
    accountId: ids[0]!,
    to: DEMO_ACCOUNTS[1]!,
    body: 'Hi Bob! This is Alice, two accounts in one Quiver. Answer me from your account.',
  }),
);
const host = await startBrowserHost({ core, staticDir: 'out/renderer', port: Number(process.env.QUIVER_PORT ?? 0) });

console.log(`\nQuiver demo: open ${host.url}`);
console.log(`Accounts ${DEMO_ACCOUNTS.join(' and ')} are in each other's roster: pick one, open the other, and chat.`);
console.log('Ctrl-C stops the demo and removes its data.');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await host.close();
  await core.close();
  await lab.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
