/**
 * Delay, loss and blocking for traffic leaving or entering a namespace, as iptables rules in its
 * mangle table (this kernel has no netem). Delay sends the packets to an NFQUEUE served by
 * nfqueueDelay.py; loss and blocking are DROP rules, inserted above the delay rules so that they
 * see every packet (a queued packet's ACCEPT verdict skips the rest of its chain).
 *
 * `dev` names the interface; without it the rule covers every interface but loopback. `out`
 * matches in POSTROUTING (sent by the namespace or forwarded by it), `in` in PREROUTING.
 */
import { fileURLToPath } from 'node:url';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { attempt, run } from './run.ts';

export type Direction = 'out' | 'in';

const DELAY_PROGRAM = fileURLToPath(new URL('./nfqueueDelay.py', import.meta.url));

/** The iptables match for one direction of an interface (or of the whole namespace). */
export function matchSpec(direction: Direction, dev?: string): string[] {
  const chain = direction === 'out' ? 'POSTROUTING' : 'PREROUTING';
  const flag = direction === 'out' ? '-o' : '-i';
  return [chain, ...(dev ? [flag, dev] : ['!', flag, 'lo'])];
}

/**
 * One iptables rule in one namespace (and the delay process behind it, if any). `remove` takes it
 * out; a namespace's rules also go when the namespace is deleted.
 */
export class TrafficRule {
  private removed = false;
  private readonly netns: string;
  /** Chain, match and target, without -A / -I / -D. */
  private readonly spec: string[];
  private readonly process: ChildProcessWithoutNullStreams | undefined;

  constructor(netns: string, spec: string[], process?: ChildProcessWithoutNullStreams) {
    this.netns = netns;
    this.spec = spec;
    this.process = process;
  }

  /** Takes the rule out (the traffic flows as before) and stops its delay process. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    attempt('ip', 'netns', 'exec', this.netns, 'iptables', '-t', 'mangle', '-D', ...this.spec);
    // The program also exits on stdin EOF; closing it is the polite way.
    this.process?.stdin.end();
  }

  /** @internal installs the rule: appended (delay) or inserted at the top (drops). */
  install(position: '-A' | '-I'): this {
    run('ip', 'netns', 'exec', this.netns, 'iptables', '-t', 'mangle', position, ...this.spec);
    return this;
  }
}

/**
 * Starts the delay program for `queue` in `netns` and resolves once it is bound to the queue
 * (before that, `--queue-bypass` would let packets through undelayed). `spawn` runs a command
 * inside the namespace and makes it the caller's to clean up.
 */
export async function startDelayProcess(
  spawn: (cmd: string, args: string[]) => ChildProcessWithoutNullStreams,
  queue: number,
  ms: number,
): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn('python3', [DELAY_PROGRAM, String(queue), String(ms)]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the NFQUEUE delay program did not bind queue ${queue} within 5 s: ${stderr.trim()}`));
    }, 5_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!out.includes('ready\n')) return;
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      clearTimeout(timer);
      resolve();
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`the NFQUEUE delay program exited (${code}) before binding queue ${queue}: ${stderr.trim()}`));
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
  return child;
}
