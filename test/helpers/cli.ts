import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { builtPackage } from './package.js';

/** Spawning the CLI, the same way in every test folder that needs a real process. */

export const ROOT = resolve(import.meta.dirname, '../..');

/** bin/coupa-connector.js of the package built from current source (built on first call). */
export function cliBin(): string {
  return join(builtPackage(), 'bin/coupa-connector.js');
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The parent's environment without BATON_* variables, so only what a test sets reaches the CLI. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BATON_')) env[k] = v;
  return { ...env, ...extra };
}

/** What a spawned process printed and how it ended; SIGKILL after `timeoutMs` (default 60 s). */
export function collect(
  child: ChildProcessWithoutNullStreams,
  opts: { timeoutMs?: number; onStderr?: (text: string, child: ChildProcessWithoutNullStreams) => void } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => {
      stderr += String(d);
      opts.onStderr?.(stderr, child);
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Spawns the CLI asynchronously (the simulator runs in this process and must keep serving).
 * `onStderr` sees the stderr text so far, e.g. to send a signal once the sync is under way.
 */
export function cli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } & Parameters<typeof collect>[1] = {},
): Promise<Run> {
  const child = spawn(process.execPath, [cliBin(), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: cleanEnv(opts.env),
  });
  return collect(child, opts);
}

/** The flags that point the CLI at a simulator with the client's pacing off (tests of pacing set their own). */
export function simulatorFlags(sim: { url: string; clientId: string; clientSecret: string }): string[] {
  return [
    '--base-url',
    sim.url,
    '--coupa-client-id',
    sim.clientId,
    '--coupa-client-secret',
    sim.clientSecret,
    '--rate-limit',
    '0',
  ];
}
