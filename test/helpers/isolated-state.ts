import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

/**
 * Provisioning keeps its journal, audit log and locks in the XDG state dir by default, not in the
 * working directory. Tests (and the CLIs they spawn, which inherit the environment) get a state
 * dir of their own per worker, so no test writes under the real home or sees another run's locks.
 */
if (!process.env.COUPA_TEST_STATE_HOME) {
  // Inside the run's scratch folder, which the global teardown removes whole: vitest can end a
  // worker without an 'exit' event, and each such worker left its folder in the temp dir (thousands
  // after a day of runs).
  const runDir = inject('runDir');
  const dir = mkdtempSync(join(runDir ?? tmpdir(), 'coupa-state-'));
  process.env.COUPA_TEST_STATE_HOME = dir;
  process.env.XDG_STATE_HOME = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}
