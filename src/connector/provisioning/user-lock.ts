import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import { formatDuration } from '../../util/duration.js';
import { sleep } from '../../util/sleep.js';
import { holderOf, registerHold, tryTake } from './lock-file.js';
import { LockWaitInterruptedError, UserLockTimeoutError } from './errors.js';

/**
 * Per-user lock files shared by every coupa-connector process that uses the same journal folder.
 * KeyedMutex orders operations inside one process; two processes (two CI jobs, two one-shots
 * started at once) each read-modify-write the user's whole list and, in a tenant that replaces
 * arrays, the later write silently drops the earlier grant. The file is the one place both see.
 */

export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/**
 * Longer than any single operation with its retries (a merging revoke is a few rounds, each of
 * which may wait out a settle window after a lost answer). The holder also refreshes the file's
 * mtime while it works, so this only trips when the holder stopped without releasing (killed, or
 * on a host we cannot ask).
 */
export const DEFAULT_LOCK_MAX_AGE_MS = 15 * 60_000;

export interface UserLockFilesOptions {
  /** Folder of the lock files; created on first use. */
  dir: string;
  /** How long to wait for a held lock before UserLockTimeoutError; 0 = one attempt. */
  timeoutMs?: number;
  maxAgeMs?: number;
  logger?: Logger;
  /** First and longest pause between attempts (the pause doubles). */
  pollMs?: { min: number; max: number };
  /** Aborting it ends a wait for a lock at once (LockWaitInterruptedError); a held lock is unaffected. */
  signal?: AbortSignal;
}

export class UserLockFiles {
  readonly dir: string;
  readonly timeoutMs: number;
  readonly maxAgeMs: number;
  private readonly logger: Logger;
  private readonly pollMs: { min: number; max: number };
  private readonly signal?: AbortSignal;

  constructor(opts: UserLockFilesOptions) {
    this.signal = opts.signal;
    this.dir = resolve(opts.dir);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_LOCK_MAX_AGE_MS;
    this.logger = opts.logger ?? silentLogger;
    this.pollMs = opts.pollMs ?? { min: 50, max: 1_000 };
  }

  /** A hash keeps URL characters out of the file name; the user id is there for people reading the folder. */
  pathFor(baseUrl: string, userId: number): string {
    const digest = createHash('sha256').update(`${baseUrl}\n${userId}`).digest('hex').slice(0, 24);
    return join(this.dir, `user-${userId}-${digest}.lock`);
  }

  async run<T>(baseUrl: string, userId: number, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(baseUrl, userId);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Waits for the lock (breaking stale ones) and returns its release function. */
  async acquire(baseUrl: string, userId: number): Promise<() => void> {
    const path = this.pathFor(baseUrl, userId);
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new ConfigError(
        `Cannot create the lock folder ${this.dir}: ${(err as Error).message}.`,
        'It lives next to the journal; pass --journal <path> in a writable folder. Nothing was changed in Coupa.',
      );
    }
    const started = Date.now();
    let pause = this.pollMs.min;
    let announced = false;
    for (;;) {
      // A stop request while waiting must not turn into a change made once the lock frees.
      if (this.signal?.aborted) throw new LockWaitInterruptedError(userId, String(this.signal.reason));
      const got = tryTake(path, { userId }, this.maxAgeMs, this.logger, `lock on user ${userId}`);
      if ('token' in got) return this.hold(path, got.token);
      const waited = Date.now() - started;
      if (waited >= this.timeoutMs) {
        throw new UserLockTimeoutError({
          userId,
          baseUrl,
          lockPath: path,
          waitedMs: waited,
          holder: got.busy,
        });
      }
      if (!announced) {
        announced = true;
        this.logger.info(
          { lockFile: path, holder: got.busy, userId },
          `User ${userId} is being changed by another process; waiting up to ${formatDuration(this.timeoutMs)} for it.`,
        );
      }
      // An abort ends the pause early; the check at the top of the loop then reports it.
      await sleep(Math.min(pause, this.timeoutMs - waited), this.signal).catch(() => undefined);
      pause = Math.min(pause * 2, this.pollMs.max);
    }
  }

  private hold(path: string, token: string): () => void {
    const release = registerHold(path, token);
    // Refresh the mtime so that an operation longer than expected is not taken for a dead one.
    const beat = setInterval(
      () => {
        if (holderOf(path)?.token !== token) return;
        const now = new Date();
        try {
          utimesSync(path, now, now);
        } catch {
          // Gone or unwritable: the release below copes, and an old mtime only risks a break after maxAge.
        }
      },
      Math.max(1_000, Math.min(this.maxAgeMs / 3, 60_000)),
    );
    beat.unref();
    return () => {
      clearInterval(beat);
      release();
    };
  }
}
