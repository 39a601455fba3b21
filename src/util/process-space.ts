import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Whether a pid left in a file (a lock holder, a temp file's writer) can be asked about, and
 * whether it is alive. A pid means something only on the same host, since the same boot, in the
 * same pid namespace: containers sharing a volume or a hostname do not share pids.
 */

export interface ProcessSpace {
  hostname: string;
  bootId?: string;
  pidNs?: string;
}

let ownSpace: ProcessSpace | undefined;

/** This process's hostname, boot id and pid namespace (the last two only where /proc has them). */
export function processSpace(): ProcessSpace {
  if (!ownSpace) {
    const read = (f: () => string): string | undefined => {
      try {
        return f().trim() || undefined;
      } catch {
        return undefined;
      }
    };
    const bootId = read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
    const pidNs = read(() => readlinkSync('/proc/self/ns/pid'));
    ownSpace = { hostname: hostname(), ...(bootId ? { bootId } : {}), ...(pidNs ? { pidNs } : {}) };
  }
  return ownSpace;
}

/** EPERM means the process exists but belongs to someone else: alive. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
