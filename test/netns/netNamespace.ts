/**
 * One network namespace of a `NetLab`: addresses, links, routes, commands and processes inside
 * it, and the traffic rules (delay, loss, blocked UDP) on its interfaces. Everything it starts is
 * registered with its lab, which ends it on cleanup.
 */
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { matchSpec, startDelayProcess, TrafficRule, type Direction } from './trafficRule.ts';
import { run } from './run.ts';

/** What a namespace needs from its lab (NetLab implements it). */
export interface NamespaceOwner {
  /** Ends `child` (and ignores its exit) when the lab is cleaned up. */
  track(child: ChildProcessWithoutNullStreams): void;
  /** An NFQUEUE number no other rule of this run uses. */
  nextQueue(): number;
}

/** Delay per direction, in ms (0 or absent: none). */
export interface DelaySpec {
  /** The interface; absent: every interface of the namespace but loopback. */
  dev?: string;
  /** Packets leaving through `dev` (sent or forwarded by this namespace). */
  out?: number;
  /** Packets arriving on `dev`. */
  in?: number;
}

export class NetNamespace {
  /** The name `ip netns` knows it by (the lab's prefix + the short name). */
  readonly name: string;
  /** The short name given to `NetLab.namespace`. */
  readonly shortName: string;
  private readonly owner: NamespaceOwner;

  /** @internal created by `NetLab.namespace`, which has already added it. */
  constructor(owner: NamespaceOwner, name: string, shortName: string) {
    this.owner = owner;
    this.name = name;
    this.shortName = shortName;
  }

  /** Runs `cmd args…` inside the namespace and returns its stdout; throws when it fails. */
  exec(cmd: string, ...args: string[]): string {
    return run('ip', 'netns', 'exec', this.name, cmd, ...args);
  }

  /** Runs `ip -n <ns> args…` (e.g. `ip('route', 'show')`). */
  ip(...args: string[]): string {
    return run('ip', '-n', this.name, ...args);
  }

  /**
   * Starts a long-lived process inside the namespace, stdio piped. The lab kills it on cleanup;
   * wait for its 'exit' yourself when its end matters. `ip netns exec` execs the command, so the
   * child's pid is the command's own.
   */
  spawn(cmd: string, args: string[], opts: SpawnOptionsWithoutStdio = {}): ChildProcessWithoutNullStreams {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { ...opts, stdio: 'pipe' });
    this.owner.track(child);
    return child;
  }

  /** Adds an address (`10.201.1.2/24`) to `dev`. */
  addAddress(dev: string, cidr: string): void {
    this.ip('addr', 'add', cidr, 'dev', dev);
  }

  /** Removes an address from `dev` (its subnet route and routes through it go too). */
  removeAddress(dev: string, cidr: string): void {
    this.ip('addr', 'del', cidr, 'dev', dev);
  }

  /** Brings `dev` up or down (down also takes its routes away, not its addresses). */
  setLink(dev: string, state: 'up' | 'down'): void {
    this.ip('link', 'set', 'dev', dev, state);
  }

  /** Sets the interface's MTU. */
  setMtu(dev: string, mtu: number): void {
    this.ip('link', 'set', 'dev', dev, 'mtu', String(mtu));
  }

  /** Adds or replaces the default route via `gateway` (e.g. `defaultRoute('10.201.2.1')`). */
  defaultRoute(gateway: string, ...extra: string[]): void {
    this.ip('route', 'replace', 'default', 'via', gateway, ...extra);
  }

  /** Turns IPv4 forwarding on: the namespace becomes a router. */
  enableForwarding(): void {
    this.exec('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  }

  /**
   * Delays packets by a fixed time per direction, keeping their order (an NFQUEUE served by
   * nfqueueDelay.py per direction). Resolves once the delay is in force; returns one rule per
   * direction asked for. 25 ms out and in on one router interface = 50 ms more RTT.
   */
  async delay(spec: DelaySpec): Promise<TrafficRule[]> {
    const rules: TrafficRule[] = [];
    for (const direction of ['out', 'in'] as const) {
      const ms = spec[direction] ?? 0;
      if (ms <= 0) continue;
      const queue = this.owner.nextQueue();
      const child = await startDelayProcess((cmd, args) => this.spawn(cmd, args), queue, ms);
      const match = matchSpec(direction, spec.dev);
      const target = ['-j', 'NFQUEUE', '--queue-num', String(queue), '--queue-bypass'];
      rules.push(new TrafficRule(this.name, [...match, ...target], child).install('-A'));
    }
    return rules;
  }

  /**
   * Delays by `ms` only the packets to or from the given ports leaving through `dev`: with
   * `dev: 'lo'`, servers inside the namespace feel `ms` away per crossing to their clients while
   * their hops to each other on other ports stay instant (a lab's gateway → backend, resolver →
   * authoritative). A packet over loopback leaves through `lo` once, so each crossing is delayed
   * once: requests match `--dports`, replies `--sports`. One queue for all, so the order holds.
   * Ports must not fall in the ephemeral range (a client's own port would match too).
   */
  async delayPorts(spec: { dev: string; ms: number; tcp?: number[]; udp?: number[] }): Promise<TrafficRule[]> {
    const queue = this.owner.nextQueue();
    const child = await startDelayProcess((cmd, args) => this.spawn(cmd, args), queue, spec.ms);
    const target = ['-j', 'NFQUEUE', '--queue-num', String(queue), '--queue-bypass'];
    const rules: TrafficRule[] = [];
    for (const proto of ['tcp', 'udp'] as const) {
      const ports = spec[proto] ?? [];
      // multiport takes at most 15 ports per rule.
      for (let i = 0; i < ports.length; i += 15) {
        const list = ports.slice(i, i + 15).join(',');
        for (const side of ['--dports', '--sports']) {
          const match = [...matchSpec('out', spec.dev), '-p', proto, '-m', 'multiport', side, list];
          rules.push(new TrafficRule(this.name, [...match, ...target], child).install('-A'));
        }
      }
    }
    return rules;
  }

  /** Drops each packet in `direction` with `probability` (0..1), independently. */
  loss(direction: Direction, probability: number, dev?: string): TrafficRule {
    const target = ['-m', 'statistic', '--mode', 'random', '--probability', String(probability), '-j', 'DROP'];
    return new TrafficRule(this.name, [...matchSpec(direction, dev), ...target]).install('-I');
  }

  /** Drops every UDP datagram in `direction` (to `port` only, if given): "this network blocks UDP". */
  blockUdp(direction: Direction, opts: { dev?: string; port?: number } = {}): TrafficRule {
    const port = opts.port === undefined ? [] : ['--dport', String(opts.port)];
    return new TrafficRule(this.name, [...matchSpec(direction, opts.dev), '-p', 'udp', ...port, '-j', 'DROP']).install(
      '-I',
    );
  }
}
