/**
 * What the namespace toolkit needs from the machine, as a `node:test` skip reason: tests pass
 * `{ skip: netnsSkipReason() }` and say why they did not run.
 */
import { spawnSync } from 'node:child_process';

/** True when this process runs as root (namespaces, veth and iptables need it). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function works(cmd: string, ...args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

let memo: string | false | undefined;

/**
 * False when namespaces, veth, iptables (NFQUEUE, statistic) and the delay program can be used
 * here; otherwise the reason, for `{ skip }`. Checked once per process.
 */
export function netnsSkipReason(): string | false {
  if (memo !== undefined) return memo;
  const missing: string[] = [];
  if (!isRoot()) missing.push('root');
  if (!works('ip', '-V')) missing.push('iproute2 (ip)');
  if (!works('iptables', '-V')) missing.push('iptables (apt-get install iptables)');
  if (!works('python3', '-c', 'import socket; socket.AF_NETLINK')) missing.push('python3 (the NFQUEUE delay program)');
  memo = missing.length === 0 ? false : `needs ${missing.join(', ')}: it builds network namespaces with veth links`;
  return memo;
}
