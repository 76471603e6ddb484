/**
 * A set of network namespaces made for one test run, linked by veth pairs, and removed again:
 *
 *   const lab = NetLab.create();              // also removes what crashed runs left behind
 *   const client = lab.namespace('client');   // `ip netns add nl<pid>-client`, lo up
 *   lab.link(client, 'wifi', '10.201.1.2/24', router, 'wifi', '10.201.1.1/24');
 *   await router.delay({ dev: 'srv', out: 25, in: 25 });
 *   ...
 *   lab.cleanup();                            // in `after()`; also runs at process exit
 *
 * Names carry the run's prefix (`nl<pid>-`), so parallel runs never collide, and a later run
 * recognises the namespaces of a dead one by the pid in it. Interface names are per namespace
 * (at most 15 characters) and need no prefix.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { NetNamespace, type NamespaceOwner } from './netNamespace.ts';
import { attempt, run } from './run.ts';

const PREFIX = 'nl';
const OWNED = /^nl(\d+)-/;

export class NetLab implements NamespaceOwner {
  /** This run's namespace-name prefix (`nl<pid>-`). */
  readonly prefix: string;
  private readonly namespaces = new Map<string, NetNamespace>();
  private readonly children = new Set<ChildProcessWithoutNullStreams>();
  private queue: number;
  private cleaned = false;
  private readonly onExit = (): void => this.cleanup();

  private constructor() {
    this.prefix = `${PREFIX}${process.pid}-`;
    // Queues are per namespace already; distinct numbers per run keep iptables listings readable.
    this.queue = (process.pid % 1000) * 32;
    // A test that throws before its `after()` still leaves nothing behind (not after SIGKILL:
    // the next run's `create` removes that).
    process.once('exit', this.onExit);
  }

  /**
   * Starts a lab. Removes first the namespaces of earlier runs whose process is gone (and ends
   * what still runs in them). Call `netnsSkipReason()` before: this needs root, ip and iptables.
   */
  static create(): NetLab {
    NetLab.removeLeftovers();
    return new NetLab();
  }

  /** Deletes `nl<pid>-*` namespaces whose pid is no longer a live process. */
  static removeLeftovers(): void {
    for (const line of run('ip', 'netns', 'list').split('\n')) {
      const name = line.split(' ')[0] ?? '';
      const m = OWNED.exec(name);
      if (!m || alive(Number(m[1]))) continue;
      removeNamespace(name);
    }
  }

  /** Creates the namespace `<prefix><name>` with loopback up. */
  namespace(name: string): NetNamespace {
    if (this.namespaces.has(name)) throw new Error(`namespace ${name} exists already in this lab`);
    const full = `${this.prefix}${name}`;
    run('ip', 'netns', 'add', full);
    const ns = new NetNamespace(this, full, name);
    this.namespaces.set(name, ns);
    ns.setLink('lo', 'up');
    return ns;
  }

  /**
   * Links two namespaces with a veth pair `devA` (in `a`) – `devB` (in `b`). Each end gets its
   * address when one is given (`null`: none yet, e.g. a link to bring up later) and is brought up
   * unless `{ up: false }`.
   */
  link(
    a: NetNamespace,
    devA: string,
    cidrA: string | null,
    b: NetNamespace,
    devB: string,
    cidrB: string | null,
    opts: { mtuA?: number; mtuB?: number; upA?: boolean; upB?: boolean } = {},
  ): void {
    run('ip', 'link', 'add', 'name', devA, 'netns', a.name, 'type', 'veth', 'peer', 'name', devB, 'netns', b.name);
    const end = (ns: NetNamespace, dev: string, cidr: string | null, mtu?: number, up = true): void => {
      if (cidr) ns.addAddress(dev, cidr);
      if (mtu) ns.setMtu(dev, mtu);
      if (up) ns.setLink(dev, 'up');
    };
    end(a, devA, cidrA, opts.mtuA, opts.upA);
    end(b, devB, cidrB, opts.mtuB, opts.upB);
  }

  /** @internal NamespaceOwner */
  track(child: ChildProcessWithoutNullStreams): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    // A process killed on cleanup may still be writing: its pipe errors are not the test's.
    child.stdin.on('error', () => this.children.delete(child));
  }

  /** @internal NamespaceOwner */
  nextQueue(): number {
    return this.queue++;
  }

  /**
   * Ends every process started in the lab's namespaces and deletes the namespaces (their veth
   * ends, addresses and iptables rules go with them). Idempotent; synchronous, so it also works
   * in a process 'exit' handler.
   */
  cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    process.off('exit', this.onExit);
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
    for (const ns of this.namespaces.values()) removeNamespace(ns.name);
    this.namespaces.clear();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills what still runs in the namespace (a namespace outlives its name while it does), then deletes it. */
function removeNamespace(name: string): void {
  const pids = spawnPids(name);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      // Gone between the listing and the kill: what we wanted.
      void err;
    }
  }
  attempt('ip', 'netns', 'del', name);
}

function spawnPids(name: string): number[] {
  try {
    return run('ip', 'netns', 'pids', name)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  } catch (err) {
    // The namespace went already.
    void err;
    return [];
  }
}
