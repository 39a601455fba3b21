import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the soak watches in the daemon process, read from /proc as an operator's tools would (no
 * cooperation from the process measured). Linux only; elsewhere the soak refuses to run.
 */

export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/status', 'utf8');
    return true;
  } catch {
    return false;
  }
}

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface FdCounts {
  total: number;
  sockets: number;
  files: number;
  other: number;
}

/** Open file descriptors by kind (sockets, regular files/dirs, pipes and the rest). */
export function openFds(pid: number): FdCounts | undefined {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const counts: FdCounts = { total: 0, sockets: 0, files: 0, other: 0 };
  for (const fd of names) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    counts.total++;
    if (target.startsWith('socket:')) counts.sockets++;
    else if (target.startsWith('/')) counts.files++;
    else counts.other++;
  }
  return counts;
}

/** Regular files anywhere under `dir` (temp c1z files, temp databases, their -wal/-journal). */
export function countFiles(dir: string): number {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (e.isDirectory()) n += countFiles(join(dir, e.name));
    else n++;
  }
  return n;
}
