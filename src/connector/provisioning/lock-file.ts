import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { silentLogger, type Logger } from '../../log.js';
import { unlinkQuietly } from '../../util/durable-file.js';
import { formatDuration } from '../../util/duration.js';
import { pidAlive, processSpace } from '../../util/process-space.js';
import { LockFileTimeoutError } from './errors.js';

/**
 * The lock-file protocol shared by the per-user locks (user-lock.ts) and the journal's lock: a
 * file created with O_EXCL names its holder; a holder that has exited (same process space) or
 * stopped refreshing the file (elsewhere) is broken under a `.break` marker; every lock this
 * process holds is removed on exit.
 */

/** A file with no readable content yet may be a creator between open and write: give it this long. */
const UNREADABLE_GRACE_MS = 10_000;
/** A `.break` marker left by a waiter that died while breaking (a few syscalls) is removed after this. */
const BREAKER_MAX_AGE_MS = 10_000;

export interface LockHolder {
  pid: number;
  hostname: string;
  /**
   * The kernel's boot id and the holder's pid namespace, when /proc has them: a pid can only be
   * asked about by a process that shares both (same machine since the same boot, same container
   * pid space). Containers that share a hostname (host networking) but not a pid space would
   * otherwise see a live holder as exited and break its lock.
   */
  bootId?: string;
  pidNs?: string;
  /** Worker threads share a pid; the thread tells this process's own leftovers from a sibling's lock. */
  threadId?: number;
  startedAt: string;
  /** The user a per-user lock is for; absent on a named lock (`name`). */
  userId?: number;
  /** A lock that is not per user (the journal's), by name. */
  name?: string;
  /** Unique per acquisition: release and breaking check it so nobody removes a lock that is not the one they saw. */
  token: string;
}

export type ObservedLock =
  { kind: 'gone' } | { kind: 'held'; holder: LockHolder | undefined; mtimeMs: number };

/** Locks this process holds, by path → token, removed on `exit` too (a second Ctrl-C calls process.exit). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [path, token] of held) removeIfMine(path, token);
  });
}

/** Records a lock this process took, and returns its (idempotent) release. */
export function registerHold(path: string, token: string): () => void {
  installExitHook();
  held.set(path, token);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    held.delete(path);
    removeIfMine(path, token);
  };
}

/**
 * One attempt at the lock: its token if we took it, else the holder it is busy with. Stale locks
 * are broken on the way (with a warning naming `what`), and a lock released between our create
 * and our look is simply tried again.
 */
export function tryTake(
  path: string,
  owner: { userId?: number; name?: string },
  maxAgeMs: number,
  logger: Logger,
  what: string,
): { token: string } | { busy: LockHolder | undefined } {
  for (;;) {
    const token = tryCreate(path, owner);
    if (token) return { token };
    const seen = observeLock(path);
    if (seen.kind === 'gone') continue;
    const stale = staleReason(path, seen, maxAgeMs);
    const outcome = stale ? breakStaleLock(path, seen) : 'busy';
    if (outcome === 'broken')
      logger.warn({ lockFile: path, holder: seen.holder, ...owner }, `Broke a stale ${what}: ${stale}`);
    if (outcome === 'busy') return { busy: seen.holder };
  }
}

export interface LockFileSyncOptions {
  /** Names the lock in the holder record, the log and errors ("journal"). */
  name: string;
  /** How long to wait for a live holder before LockFileTimeoutError. */
  timeoutMs: number;
  /**
   * A holder we cannot ask about (another host) is taken for dead after this long. There is no
   * heartbeat (the holder is inside synchronous code), so it must exceed the longest hold.
   */
  maxAgeMs: number;
  logger?: Logger;
}

/**
 * The same lock file protocol as UserLockFiles (O_EXCL create, stale breaking under a `.break`
 * marker, removal on exit), taken synchronously: for critical sections of a few syscalls inside
 * synchronous code (the journal's append and compaction), where an await would let other work of
 * this process in between. Waiting blocks the thread in short sleeps; holds are milliseconds.
 */
export function acquireLockFileSync(path: string, opts: LockFileSyncOptions): () => void {
  const logger = opts.logger ?? silentLogger;
  const started = Date.now();
  let pause = 1;
  for (;;) {
    const got = tryTake(path, { name: opts.name }, opts.maxAgeMs, logger, `${opts.name} lock`);
    if ('token' in got) return registerHold(path, got.token);
    const waited = Date.now() - started;
    if (waited >= opts.timeoutMs) throw new LockFileTimeoutError(opts.name, path, waited, got.busy);
    sleepSync(Math.min(pause, opts.timeoutMs - waited));
    pause = Math.min(pause * 2, 20);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, Math.max(1, ms));
}

/** Why the observed lock at `path` may be broken, or undefined while its holder may still be working. */
function staleReason(
  path: string,
  seen: Extract<ObservedLock, { kind: 'held' }>,
  maxAgeMs: number,
): string | undefined {
  const age = Date.now() - seen.mtimeMs;
  const { holder } = seen;
  if (!holder) {
    return age > UNREADABLE_GRACE_MS
      ? `the lock file has no readable holder and is ${formatDuration(age)} old`
      : undefined;
  }
  // A pid can only be asked about in its own process space; elsewhere only the age can tell.
  if (sharesProcessSpace(holder)) {
    // Our own pid on a lock we do not hold: left by an earlier process that had this pid (a
    // container restarted after a kill comes back with the same hostname and pid).
    if (
      holder.pid === process.pid &&
      (holder.threadId ?? 0) === threadId &&
      held.get(path) !== holder.token
    ) {
      return `it was left by an earlier process with this process's pid (${holder.pid})`;
    }
    if (!pidAlive(holder.pid)) return `its holder, pid ${holder.pid} on this host, has exited`;
  }
  if (age > maxAgeMs) {
    return `it was last refreshed ${formatDuration(age)} ago by pid ${holder.pid} on ${holder.hostname} (max age ${formatDuration(maxAgeMs)})`;
  }
  return undefined;
}

/** `wx` is the whole mutual exclusion: exactly one creator of the file wins. */
function tryCreate(path: string, owner: { userId?: number; name?: string }): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  const holder: LockHolder = {
    pid: process.pid,
    threadId,
    ...processSpace(),
    startedAt: new Date().toISOString(),
    ...owner,
    token: randomUUID(),
  };
  try {
    writeSync(fd, JSON.stringify(holder) + '\n');
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(path);
    throw err;
  }
  closeSync(fd);
  return holder.token;
}

/** What is at `path` now: nothing, or a holder (undefined if unreadable) and the file's mtime. */
export function observeLock(path: string): ObservedLock {
  try {
    const { mtimeMs } = statSync(path);
    return { kind: 'held', holder: holderOf(path), mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    throw err;
  }
}

export function holderOf(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return undefined;
    return {
      pid: parsed.pid,
      hostname: String(parsed.hostname),
      ...(typeof parsed.bootId === 'string' ? { bootId: parsed.bootId } : {}),
      ...(typeof parsed.pidNs === 'string' ? { pidNs: parsed.pidNs } : {}),
      ...(typeof parsed.threadId === 'number' ? { threadId: parsed.threadId } : {}),
      startedAt: String(parsed.startedAt),
      ...(typeof parsed.userId === 'number' ? { userId: parsed.userId } : {}),
      ...(typeof parsed.name === 'string' ? { name: parsed.name } : {}),
      token: parsed.token,
    };
  } catch {
    return undefined;
  }
}

/**
 * Removes a lock judged stale, under a `.break` marker (itself `wx`): two waiters that both saw the
 * same stale file must not both unlink — the second would remove the fresh lock the first just
 * took. Under the marker the file is read again and removed only if it is still the one judged
 * (same token and mtime); otherwise it changed hands and is judged afresh. `busy`: someone else
 * is breaking it, wait; `broken` / `changed`: look again at once. Exported so a test can replay the two-waiter race step by step.
 */
export function breakStaleLock(
  path: string,
  judged: Extract<ObservedLock, { kind: 'held' }>,
): 'broken' | 'changed' | 'busy' {
  const marker = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(marker, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another waiter is breaking it right now, or died doing so (then its marker is old).
    try {
      if (Date.now() - statSync(marker).mtimeMs > BREAKER_MAX_AGE_MS) unlinkQuietly(marker);
    } catch {
      // gone already
    }
    return 'busy';
  }
  try {
    const now = observeLock(path);
    if (now.kind === 'gone') return 'changed';
    if (now.holder?.token !== judged.holder?.token || now.mtimeMs !== judged.mtimeMs) return 'changed';
    unlinkQuietly(path);
    return 'broken';
  } finally {
    closeSync(fd);
    unlinkQuietly(marker);
  }
}

function removeIfMine(path: string, token: string): void {
  if (holderOf(path)?.token === token) unlinkQuietly(path);
}

/** Same hostname, and the same boot and pid namespace wherever both sides recorded them. */
function sharesProcessSpace(holder: LockHolder): boolean {
  const me = processSpace();
  const same = (a?: string, b?: string) => a === undefined || b === undefined || a === b;
  return holder.hostname === me.hostname && same(holder.bootId, me.bootId) && same(holder.pidNs, me.pidNs);
}
