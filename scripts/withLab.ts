import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { delimiter, dirname } from 'node:path';
import { startLab, labStateFile, type RunningLab } from '../test/lab/lab.ts';

/**
 * `node scripts/withLab.ts <command...>`: starts the lab, runs the command with
 * QUIVER_LAB=<dir>/lab.json in its environment, stops the lab whatever happens (also on SIGINT and
 * SIGTERM, which are passed on to the command) and exits with the command's exit code.
 */
async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command) {
    console.error('usage: node scripts/withLab.ts <command> [args...]');
    return 2;
  }
  // A signal while the lab is starting must not kill us before we can stop what started.
  let interrupted: NodeJS.Signals | undefined;
  const onEarlySignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
  };
  process.on('SIGINT', onEarlySignal);
  process.on('SIGTERM', onEarlySignal);
  let lab: RunningLab;
  try {
    lab = await startLab();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    return 1;
  } finally {
    process.off('SIGINT', onEarlySignal);
    process.off('SIGTERM', onEarlySignal);
  }
  if (interrupted) {
    await lab.stop();
    return 128 + (interrupted === 'SIGINT' ? 2 : 15);
  }
  try {
    // `node` means this Node (24, which strips types), not whatever `node` is first on PATH.
    const child = spawn(command === 'node' ? process.execPath : command, args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
        QUIVER_LAB: labStateFile(lab.dir),
      },
    });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    try {
      const [code, signal] = (await Promise.race([
        once(child, 'exit'),
        once(child, 'error').then(([err]) => {
          throw err;
        }),
      ])) as [number | null, NodeJS.Signals | null];
      // The shell convention for a child killed by a signal: 128 + its number.
      return code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9);
    } finally {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    }
  } catch (err) {
    console.error(`withLab: cannot run ${command}: ${err instanceof Error ? err.message : err}`);
    return 127;
  } finally {
    await lab.stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
