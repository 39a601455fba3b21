import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomically } from '../../util/durable-file.js';

/**
 * Whether a tenant merges a non-empty association array into the user's list (Coupa's documented
 * behaviour: removal is clear-then-set) or replaces the list. Coupa's docs and integrators
 * disagree, so the mode is never configured: it is learned from the API's own answer to a write
 * (see converge.ts) and remembered per base URL, in memory and, when a file is given, on
 * disk for later runs. A wrong memory is harmless: "replace" is re-checked on every removal, and
 * the merge procedure is also correct (just one write longer) on a replacing tenant.
 */
export type ArrayMode = 'merge' | 'replace';

export class ArrayModeMemory {
  private readonly modes = new Map<string, ArrayMode>();
  private readonly file?: string;

  constructor(file?: string) {
    this.file = file === undefined ? undefined : resolve(file);
    if (this.file && existsSync(this.file)) {
      try {
        const stored = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, unknown>;
        for (const [url, mode] of Object.entries(stored)) {
          if (mode === 'merge' || mode === 'replace') this.modes.set(url, mode);
        }
      } catch {
        // An unreadable cache only costs one extra write on the next removal.
      }
    }
  }

  get(baseUrl: string): ArrayMode | undefined {
    return this.modes.get(baseUrl);
  }

  set(baseUrl: string, mode: ArrayMode): void {
    if (this.modes.get(baseUrl) === mode) return;
    this.modes.set(baseUrl, mode);
    if (!this.file) return;
    try {
      writeFileAtomically(this.file, JSON.stringify(Object.fromEntries(this.modes), null, 2) + '\n');
    } catch {
      // Same as above: the memory is an optimisation, never needed for correctness.
    }
  }
}

/** One memory per process, shared by every provisioner that is not given its own. */
export const processArrayModes = new ArrayModeMemory();
