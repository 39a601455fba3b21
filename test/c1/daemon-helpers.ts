import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, cliBin, ROOT, simulatorFlags, type Run } from '../helpers/cli.js';
import type { Simulator } from '../../src/simulator/index.js';
import type { FakeC1 } from '../../src/simulator/c1/index.js';

/** A service-mode process of the CLI, pointed at a fake ConductorOne and a Coupa simulator. */
export interface DaemonProcess {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves when the process has exited. */
  exited: Promise<Run>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Run>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function startDaemon(opts: {
  fake: FakeC1;
  sim: Simulator;
  args?: string[];
  env?: Record<string, string>;
  cwd: string;
}): DaemonProcess {
  const env = cleanEnv({ ...opts.fake.env(), ...opts.env });
  const args = [cliBin(), ...simulatorFlags(opts.sim), '--log-format', 'json', ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { cwd: opts.cwd ?? ROOT, env });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<Run>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      // Kept for a failing test's post-mortem.
      try {
        writeFileSync(join(opts.cwd, 'daemon.log'), err);
      } catch {
        // The folder may be gone already.
      }
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      const run = await exited;
      clearTimeout(timer);
      return run;
    },
  };
}

/** The JSON log lines of a daemon's stderr. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
