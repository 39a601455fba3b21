import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A scratch folder for this run: the package built from current source lands here on first use. */
    runDir: string;
  }
}

/**
 * One scratch folder per `vitest run`, handed to every worker. Creating it costs nothing: the
 * build that fills it (test/helpers/package.ts) only happens when a test first needs it.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'coupa-test-run-'));
  project.provide('runDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
