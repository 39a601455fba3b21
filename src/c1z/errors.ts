import { CoupaConnectorError, ExitCode } from '../errors.js';

/**
 * A c1z file that cannot be read is an input problem: the user must point at another file or
 * rewrite it, so every error here exits with the usage code.
 */
export class C1zError extends CoupaConnectorError {
  readonly path: string;
  constructor(path: string, message: string, hint?: string, cause?: unknown) {
    super(message, { exitCode: ExitCode.usage, hint, cause });
    this.path = path;
  }
}

/** The file does not start with the `C1ZF\0` magic (or is empty). */
export class NotC1zError extends C1zError {
  constructor(path: string, detail: string) {
    super(
      path,
      `${path} is not a c1z file: ${detail}.`,
      'Pass a .c1z file written by a baton connector (-f/--file).',
    );
  }
}

/** A `C1Z3\0` (Pebble, baton-sdk v0.25+) file. */
export class UnsupportedC1zVersionError extends C1zError {
  constructor(path: string) {
    super(
      path,
      `${path} is a c1z v3 (Pebble) file; v3 (Pebble) files are not supported.`,
      'Write v1 (SQLite) c1z files instead: run the Go connector with a baton-sdk that writes v1, or re-sync with coupa-connector.',
    );
  }
}

/** Truncated or damaged compression, garbage instead of SQLite, or a database without c1z tables. */
export class CorruptC1zError extends C1zError {
  constructor(path: string, detail: string, cause?: unknown) {
    super(path, `${path} is damaged: ${detail}.`, 'Re-run the sync to write a fresh file.', cause);
  }
}

/** The file holds no sync run at all, or (when the caller asked for one) not the requested one. */
export class NoSyncError extends C1zError {
  constructor(
    path: string,
    detail: string,
    hint = 'Re-run the sync to completion to write a finished sync.',
  ) {
    super(path, `${path} holds no usable sync: ${detail}.`, hint);
  }
}

/** `--sync-id` names a sync the file does not hold: a typo, or an id of another file. */
export class UnknownSyncIdError extends NoSyncError {
  constructor(path: string, syncId: string) {
    super(
      path,
      `there is no sync with id ${syncId}`,
      `\`syncs -f ${path}\` lists the syncs it holds, with their ids.`,
    );
  }
}

/** Decoding would exceed a safety limit (decoded size or zstd window), as baton's reader enforces. */
export class C1zLimitError extends C1zError {
  constructor(path: string, detail: string, envVar: string) {
    super(
      path,
      `${path} exceeds a c1z decoder limit: ${detail}.`,
      `If the file is trusted, raise ${envVar} (MiB).`,
    );
  }
}

/**
 * A sync that keeps history joins the c1z already at its target, and that file cannot be read: a
 * problem with the input, found before the sync sends any request. The file is left alone
 * (replacing it would lose its history).
 */
export class UnreadablePreviousC1zError extends C1zError {
  constructor(path: string, detail: string, cause?: unknown) {
    super(
      path,
      `Cannot add this sync to ${path}: the existing file is not a readable c1z (${detail}).`,
      [
        cause instanceof C1zLimitError ? cause.hint : undefined,
        'It was left untouched. Move it away (or pass another -f), or set BATON_KEEP_SYNC_COUNT=1 ' +
          'to replace it without keeping its history.',
      ]
        .filter(Boolean)
        .join(' '),
      cause,
    );
  }
}

/** Writing the c1z failed; the previous file at the target path, if any, is untouched. */
export class C1zWriteError extends CoupaConnectorError {
  constructor(message: string, cause?: unknown) {
    super(message, {
      exitCode: ExitCode.failure,
      hint: 'The previous output file, if any, was left untouched. Check free space and permissions of the output and temp directories.',
      cause,
    });
  }
}
