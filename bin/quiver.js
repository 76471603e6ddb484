#!/usr/bin/env node
// The `quiver` command (package.json "bin"). Plain JavaScript so that any Node can start it: an
// older Node re-runs this file with the project's own Node 24 (node_modules/node), which runs the
// TypeScript CLI (app/cli/main.ts) directly by type stripping.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);

if (major < REQUIRED_MAJOR) {
  const node24 = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(node24)) {
    console.error(
      `quiver needs Node.js ${REQUIRED_MAJOR} or newer (this is ${process.version}) and did not find the project's own ` +
        `Node at ${node24}. Run \`npm install\` in the Quiver directory, or install Node.js ${REQUIRED_MAJOR}.`,
    );
    process.exit(1);
  }
  const child = spawn(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches both processes (same process group); this one waits for the child's exit code.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.once('error', (error) => {
    console.error(`quiver: could not start ${node24}: ${error.message}`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
} else {
  const { main } = await import('../app/cli/main.ts');
  process.exit(await main(process.argv.slice(2)));
}
