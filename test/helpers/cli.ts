import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Spawning the built CLI, the same way in every test folder that needs a real process. */

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/coupa-connector.js');

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

/**
 * Spawns the built CLI asynchronously (the simulator runs in this process and must keep serving).
 * `onStderr` sees the stderr text so far, e.g. to send a signal once the sync is under way.
 */
export function cli(
  args: string[],
  opts: {
    env?: Record<string, string>;
    cwd?: string;
    timeoutMs?: number;
    onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<Run> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('These tests spawn the built CLI: run `npm run build` first (npm test does).');
  }
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env) });
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
