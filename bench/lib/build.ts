import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './child.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The measured children run dist/, as the shipped CLI does; measuring a dist/ older than src/
 * would report on code that is no longer there, so rebuild when any source file is newer.
 */
export function ensureBuilt(mode: 'auto' | 'always' | 'never'): 'built' | 'up to date' | 'as is' {
  let builtAt = 0;
  try {
    builtAt = statSync(join(REPO_ROOT, 'dist/connector/sync.js')).mtimeMs;
  } catch {
    // never built
  }
  if (mode === 'never') {
    if (!builtAt) throw new Error('dist/ is missing: run `npm run build` first, or drop --no-build.');
    return 'as is';
  }
  if (mode === 'auto' && builtAt > newestMtime(join(REPO_ROOT, 'src'))) return 'up to date';
  execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    },
  );
  return 'built';
}
