import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * Files that must survive a crash whole: either the old content or the new, never a mix, and a
 * rename that is itself on disk. Used by the c1z writer, the provisioning journal and the
 * array-mode memory; and
 * append-only logs whose every line must be on disk before the caller goes on (journal, audit log).
 */

/** Removes a file; one that is already gone is fine, any other failure is not. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Makes a rename (or create) in `dir` durable. Some platforms cannot open a folder for fsync;
 * then the rename is all we get, which is not an error.
 */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL on platforms without folder fsync
  } finally {
    closeSync(fd);
  }
}

/** A temp name next to `path` (same folder, so the rename stays on one file system). */
export function tempPathFor(path: string, infix = '.tmp-'): string {
  return join(dirname(path), `${basename(path)}${infix}${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export interface AtomicWriteOptions {
  /** File mode of a newly created file; default 0o600. */
  mode?: number;
  /** Where the temp file goes; default a fresh name next to `path`. */
  tempPath?: string;
  /**
   * Asked after the temp file is on disk and before the rename; returning false keeps the old
   * file (the temp file is removed) and makes the write return false.
   */
  beforeRename?: () => boolean;
}

/**
 * Temp file, fsync, rename over `path`, fsync of the folder: a crash at any point leaves either
 * the old or the new complete file. The folder is created if needed. Returns whether `path` was
 * replaced.
 */
export function writeFileAtomically(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const temp = opts.tempPath ?? tempPathFor(path);
  try {
    const fd = openSync(temp, 'wx', opts.mode ?? 0o600);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.beforeRename && !opts.beforeRename()) return false;
    renameSync(temp, path);
  } finally {
    unlinkQuietly(temp);
  }
  fsyncDir(dirname(path));
  return true;
}

/**
 * Appends one line and fsyncs before returning: the journal's promise ("the intended list is on
 * disk before the list is cleared") only holds if the bytes survive a crash right after this call.
 * If the file does not end with a newline (a write torn by a crash), the line starts on a new one:
 * otherwise the torn bytes would glue onto it and make this line unreadable too.
 * Returns the file's size afterwards.
 */
export function appendLineDurably(path: string, line: string): number {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a+', 0o600);
  try {
    const before = fstatSync(fd).size;
    let text = line.endsWith('\n') ? line : line + '\n';
    if (before > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, before - 1);
      if (last[0] !== 0x0a) text = '\n' + text;
    }
    const bytes = Buffer.from(text, 'utf8');
    writeSync(fd, bytes);
    fsyncSync(fd);
    return before + bytes.length;
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates the file (and its folder) if needed and proves it can be opened for appending, before
 * any change is made rather than after one that could then not be recorded. `what` names the file
 * in the error ("audit log"), `flag` is the option that moves it ("--audit-log").
 */
export function ensureAppendable(path: string, what: string, flag: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, 'a', 0o600));
  } catch (err) {
    throw new ConfigError(
      `Cannot write the ${what} ${path}: ${(err as Error).message}.`,
      `Pass ${flag} <path> pointing to a writable file; nothing was changed in Coupa.`,
    );
  }
}
