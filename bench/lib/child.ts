/**
 * Child processes for the benchmark. Each measured thing (the simulator, one sync, the writer
 * micro-benchmark) runs in its own process so that its peak RSS is its own and nothing else's.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A bench/ script in a child with an IPC channel; stdout/stderr are captured, not inherited.
 * .ts scripts run under tsx; .mjs ones (the measured children, on dist/) under plain node.
 */
export function forkScript(
  script: string,
  args: string[],
  env?: Record<string, string>,
  nodeArgs: string[] = [],
): ChildProcess {
  return fork(fileURLToPath(new URL(`../${script}`, import.meta.url)), args, {
    cwd: REPO_ROOT,
    execArgv: [...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), ...nodeArgs],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

export class BenchChildError extends Error {}

/** Runs a script to completion and returns its stdout; a non-zero exit is an error carrying stderr. */
export function runScript(
  script: string,
  args: string[],
  env?: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = forkScript(script, args, env, nodeArgs);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(
          new BenchChildError(
            `bench/${script} ${args.join(' ')} exited with ${code ?? signal}:\n${err.trim() || out.trim()}`,
          ),
        );
    });
  });
}

/** The last line of a child's stdout that parses as a JSON object. */
export function lastJsonLine<T>(stdout: string, script: string): T {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as T;
    } catch {
      // keep looking: a log line may start with "{" too
    }
  }
  throw new BenchChildError(`bench/${script} printed no JSON result:\n${stdout.slice(-2000)}`);
}
