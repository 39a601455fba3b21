import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../errors.js';

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
