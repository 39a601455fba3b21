import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Appends one line and fsyncs before returning: the journal's promise ("the intended list is on
 * disk before the list is cleared") only holds if the bytes survive a crash right after this call.
 */
export function appendLineDurably(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a', 0o600);
  try {
    writeSync(fd, line.endsWith('\n') ? line : line + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates the file (and its folder) if needed and proves it can be opened for appending. */
export function ensureAppendable(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  closeSync(openSync(path, 'a', 0o600));
}
