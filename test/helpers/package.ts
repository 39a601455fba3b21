import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { ensureBuilt } from '../../bench/lib/build.js';

/**
 * The package as it ships (bin/ on dist/, package.json and its `files`), built from the current
 * source, so tests that spawn the CLI or import the package never run a stale dist/. Built once
 * per `vitest run`, on first use, into the run's scratch folder; the repository's own dist/ is
 * left alone.
 */

const ROOT = resolve(import.meta.dirname, '../..');

/** Blocks this worker for `ms` (the callers are synchronous: they run before anything is spawned). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `fn` while holding a lock folder shared by all workers of the run. */
function withRunLock<T>(name: string, fn: () => T): T {
  const lock = join(inject('runDir'), `${name}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline)
        throw new Error(`Waited 3 minutes for ${lock}: did a test worker die mid-build?`);
      sleepSync(100);
    }
  }
  try {
    return fn();
  } finally {
    rmdirSync(lock);
  }
}

let packageRoot: string | undefined;

/** The folder of the package built from current source (holds bin/, dist/, package.json, …). */
export function builtPackage(): string {
  if (packageRoot) return packageRoot;
  const root = join(inject('runDir'), 'package');
  withRunLock('package', () => {
    if (existsSync(join(root, '.complete'))) return;
    // No type check: that is `npm run typecheck`'s job; a type error must not hide a test result.
    const tsc = [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'];
    try {
      execFileSync(process.execPath, [...tsc, '--outDir', join(root, 'dist'), '--noCheck'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      throw new Error(`Building the package from src/ failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    for (const entry of ['package.json', ...pkg.files.filter((f) => f !== 'dist')]) {
      cpSync(join(ROOT, entry), join(root, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    writeFileSync(join(root, '.complete'), '');
  });
  packageRoot = root;
  return root;
}

/**
 * The repository's own dist/, rebuilt when older than src/: only for the benchmarks' tests, whose
 * measured children import ../dist by design. The lock keeps two workers from building at once.
 */
export function currentRepoDist(): void {
  withRunLock('repo-dist', () => ensureBuilt('auto'));
}
