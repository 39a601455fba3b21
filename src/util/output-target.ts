import { constants } from 'node:fs';
import { access, lstat, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * Where an output file (`-f out.c1z`) may go, checked before any request is sent, so a wrong
 * target costs nothing and never replaces something that is not a file.
 *
 * - A missing path: its directory must exist and be writable.
 * - A regular file: replaced atomically (temp file beside it, fsync, rename) once the new one is
 *   complete.
 * - A symlink: **written through**. The file it points to is replaced (the temp file goes beside
 *   the target, so the rename stays atomic), and the link itself is kept, still pointing at the
 *   new file. A link that points nowhere, or at something that is not a regular file, is refused.
 * - Anything else (a directory, a FIFO, a character or block device such as /dev/null, a socket) is
 *   refused with exit 2. Replacing /dev/null with a file as root breaks the whole system; a FIFO
 *   would be swapped for a file its reader never sees.
 *
 * Returns the path to replace: `path` itself, or the symlink's final target. `untouched` ends the
 * hint with what the refusal spared: a sync sent nothing to Coupa; a report or CSV wrote nothing.
 */
export async function checkOutputTarget(
  path: string,
  flag = '-f/--file',
  untouched = 'nothing was sent to Coupa',
): Promise<string> {
  const abs = resolve(path);
  let st;
  try {
    st = await lstat(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(abs, flag, err);
    await checkDirectory(abs, flag, untouched);
    return abs;
  }
  if (st.isSymbolicLink()) {
    let target: string;
    try {
      target = await realpath(abs);
    } catch (err) {
      throw new ConfigError(
        `${flag} ${abs} is a symlink that points to nothing (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
        'Pass the path of a file, or fix the link; a symlink is written through to the file it names.',
      );
    }
    const targetStat = await stat(target);
    if (!targetStat.isFile()) throw notAFile(abs, flag, untouched, kindOf(targetStat), target);
    await checkDirectory(target, flag, untouched);
    return target;
  }
  if (!st.isFile()) throw notAFile(abs, flag, untouched, kindOf(st));
  await checkDirectory(abs, flag, untouched);
  return abs;
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notAFile(abs: string, flag: string, untouched: string, kind: string, target?: string): ConfigError {
  return new ConfigError(
    `${flag} ${abs} is ${target ? `a symlink to ${target}, which is ` : ''}${kind}; the output must be a regular file.`,
    `Pass a file path (it is created, or replaced once the new file is complete); ${untouched}.`,
  );
}

function unreadable(abs: string, flag: string, err: unknown): ConfigError {
  return new ConfigError(
    `Cannot check ${flag} ${abs} (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
    'Check the path and the permissions of its directories.',
  );
}

/** The temp file and the rename need the directory itself. */
async function checkDirectory(file: string, flag: string, untouched: string): Promise<void> {
  const dir = dirname(file);
  try {
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError(
      `Cannot write ${flag} ${file}: its directory ${dir} does not exist or is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      `Create the directory or pick another path; ${untouched}.`,
    );
  }
}
