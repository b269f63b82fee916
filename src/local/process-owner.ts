import { hostname } from 'node:os';

/**
 * Who holds a lease, lock or execution locally: a role (`up`, `sync`, `demo`, …), the host and the process id,
 * written as `role:host:pid`. Leases keyed by it can be taken over at once when the holder is provably dead
 * (same host, process gone), instead of waiting for the lease to run out.
 */
export interface ProcessOwner {
  role: string;
  host: string;
  pid: number;
}

/** What is known about an owner's process. */
export type OwnerLiveness = 'alive' | 'dead' | 'unknown';

/**
 * The owner string of this process in a role.
 *
 * @example
 * currentOwner('sync') // 'sync:my-host:4242'
 */
export function currentOwner(role: string): string {
  return formatOwner({ role, host: hostname(), pid: process.pid });
}

/**
 * Formats an owner as `role:host:pid`.
 *
 * @example
 * formatOwner({ role: 'up', host: 'h', pid: 7 }) // 'up:h:7'
 */
export function formatOwner(owner: ProcessOwner): string {
  return `${owner.role}:${owner.host}:${owner.pid}`;
}

/**
 * Parses `role:host:pid` (the host may contain `:`); `undefined` for anything else, e.g. an older `up:<pid>` or an ARN.
 *
 * @example
 * parseOwner('up:h:7') // { role: 'up', host: 'h', pid: 7 }
 */
export function parseOwner(owner: string): ProcessOwner | undefined {
  const first = owner.indexOf(':');
  const last = owner.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  const pid = Number(owner.slice(last + 1));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { role: owner.slice(0, first), host: owner.slice(first + 1, last), pid };
}

/**
 * Whether a process id is running on this machine (signal 0; `EPERM` means it exists under another user).
 *
 * @example
 * isProcessAlive(process.pid) // true
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Liveness of an owner string: `dead` only when it names this host and its process is gone; `unknown` for another
 * host or an unparsable owner (then only a lease's expiry frees it).
 *
 * @example
 * ownerLiveness(currentOwner('up')) // 'alive'
 */
export function ownerLiveness(owner: string): OwnerLiveness {
  const parsed = parseOwner(owner);
  if (!parsed || parsed.host !== hostname()) return 'unknown';
  return isProcessAlive(parsed.pid) ? 'alive' : 'dead';
}

/**
 * A short human description of an owner, for "waiting on …" lines.
 *
 * @example
 * describeOwner('up:h:7') // 'up (pid 7 on h)'
 */
export function describeOwner(owner: string): string {
  const parsed = parseOwner(owner);
  return parsed ? `${parsed.role} (pid ${parsed.pid} on ${parsed.host})` : owner;
}
