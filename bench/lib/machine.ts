import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { REPO_ROOT } from './child.js';

export interface Machine {
  nproc: number;
  cpu: string;
  ramGb: number;
  node: string;
  os: string;
  commit: string;
  /** Source files that differed from the commit when the benchmark ran. */
  uncommitted: string[];
  /** 1, 5 and 15 minute load averages at the start: other work on the machine skews timings. */
  loadAverage: number[];
}

// Not trimmed: porcelain lines start with a status column that may be a space.
function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });
  } catch {
    return '';
  }
}

export function describeMachine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux: os.cpus() is what there is
  }
  return {
    nproc: os.availableParallelism(),
    cpu,
    ramGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    commit: git(['rev-parse', '--short', 'HEAD']).trim() || 'unknown',
    uncommitted: git(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
    loadAverage: os.loadavg(),
  };
}
