import { createHash } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pidAlive, processSpace } from './process-space.js';

/**
 * Temp files a process leaves when it is killed (-9, OOM): the half-compressed `.<out>.tmp-*`
 * beside an output file and the `c1z-writer-*` / `c1z-*` databases in the temp dir, which hold
 * Coupa data and can be hundreds of MB. Their names carry the writer's pid and a short key of its
 * process space (host, boot, pid namespace), so the next run can tell a dead writer's leftovers from
 * a live one's: same space and pid gone means dead. A leftover from another space (another
 * container sharing the volume) cannot be asked about; it is removed only once it has not changed
 * for a day, longer than any writer stays idle.
 */

const FOREIGN_MAX_AGE_MS = 24 * 3600_000;

let ownKey: string | undefined;

/** 8 hex chars naming this host + boot + pid namespace. */
export function processSpaceKey(): string {
  if (!ownKey) {
    const { hostname, bootId, pidNs } = processSpace();
    ownKey = createHash('sha256')
      .update([hostname, bootId ?? '', pidNs ?? ''].join('\n'))
      .digest('hex')
      .slice(0, 8);
  }
  return ownKey;
}

/** `<pid>.<space key>`: what goes into a temp name so the next run can judge it. */
export function ownerTag(): string {
  return `${process.pid}.${processSpaceKey()}`;
}

/** Whether a leftover tagged `pid.key` (with mtime `mtimeMs`) belongs to a writer that is gone. */
export function ownerGone(pid: number, key: string, mtimeMs: number, now = Date.now()): boolean {
  if (key === processSpaceKey()) return pid !== process.pid && !pidAlive(pid);
  return now - mtimeMs > FOREIGN_MAX_AGE_MS;
}

/** Files in `dir` whose names match `pattern` (capturing pid and key) and whose owner is gone. */
function sweep(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    try {
      const { mtimeMs } = statSync(path);
      if (!ownerGone(Number(m[1]), m[2]!, mtimeMs)) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // raced with its owner or another sweeper: nothing to do
    }
  }
  return removed;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Name of the temp file a writer compresses into, beside the output `out`. */
export function outputTempName(out: string, random: string): string {
  return join(dirname(out), `.${basename(out)}.tmp-${ownerTag()}-${random}`);
}

/** Removes `.<out>.tmp-<pid>.<key>-*` files of dead writers beside `out`; returns what went. */
export function sweepOutputTemps(out: string): string[] {
  return sweep(dirname(out), new RegExp(`^\\.${escapeRegExp(basename(out))}\\.tmp-(\\d+)\\.([0-9a-f]{8})-`));
}

/** Prefix for a temp directory (mkdtemp) of kind `kind` (`c1z-writer`, `c1z`). */
export function tempDirPrefix(kind: string): string {
  return `${kind}-${ownerTag()}-`;
}

/** Removes `<kind>-<pid>.<key>-*` temp directories of dead processes under `dir`. */
export function sweepTempDirs(dir: string, kind: string): string[] {
  return sweep(dir, new RegExp(`^${escapeRegExp(kind)}-(\\d+)\\.([0-9a-f]{8})-`));
}
