import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { ExitCode } from '../../src/errors.js';
import {
  LockWaitInterruptedError,
  UserLockFiles,
  UserLockTimeoutError,
  type LockHolder,
} from '../../src/connector/provisioning/index.js';
import { breakStaleLock, observeLock } from '../../src/connector/provisioning/lock-file.js';
import { cli, ROOT, simulatorFlags } from '../helpers/cli.js';
import {
  arrange,
  existingIds,
  holdings,
  provisionerFor,
  readJsonLines,
  writeCount,
  TENANT,
} from './helpers.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

const BASE = 'https://acme.coupahost.com';
/** The simulator's base URL as the provisioner keys its locks. */
const baseOf = (sim: { url: string }) => sim.url.replace(/\/+$/, '');

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coupa-lock-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function locks(dir: string, extra: Partial<ConstructorParameters<typeof UserLockFiles>[0]> = {}) {
  return new UserLockFiles({ dir, timeoutMs: 2_000, pollMs: { min: 5, max: 20 }, ...extra });
}

/** A logger whose lines land in `lines`, to see the warnings. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', format: 'json', destination }), lines };
}

/** The pid of a process that has exited (it ran `node -e ""` to the end). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.status).toBe(0);
  return child.pid;
}

function writeHolder(path: string, holder: Partial<LockHolder>): void {
  const full: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    userId: 1,
    token: `fake-${Math.random()}`,
    ...holder,
  };
  writeFileSync(path, JSON.stringify(full));
}

/** Whether the promise settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setTimeout(r, ms));
  return settled;
}

describe('UserLockFiles', () => {
  it('serialises two instances on the same user, and removes the file on release', async () => {
    const dir = scratch();
    const a = locks(dir);
    const b = locks(dir);
    const path = a.pathFor(BASE, 7);
    expect(b.pathFor(BASE, 7)).toBe(path);
    // No URL character reaches the file system.
    expect(path.slice(dir.length + 1)).toMatch(/^user-7-[0-9a-f]{24}\.lock$/);

    const releaseA = await a.acquire(BASE, 7);
    expect(existsSync(path)).toBe(true);
    const second = b.acquire(BASE, 7);
    expect(await settlesWithin(second, 150)).toBe(false);
    releaseA();
    const releaseB = await second;
    expect(existsSync(path)).toBe(true);
    releaseB();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not make different users (or tenants) wait for each other', async () => {
    const dir = scratch();
    const release = await locks(dir).acquire(BASE, 1);
    const other = locks(dir, { timeoutMs: 0 });
    const r2 = await other.acquire(BASE, 2);
    const r3 = await other.acquire('https://other.coupahost.com', 1);
    expect(readdirSync(dir)).toHaveLength(3);
    for (const r of [release, r2, r3]) r();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('releases the file when the locked work throws', async () => {
    const dir = scratch();
    await expect(locks(dir).run(BASE, 1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('breaks the lock of a process on this host that has exited, with a warning', async () => {
    const dir = scratch();
    const { logger, lines } = capturingLogger();
    const l = locks(dir, { timeoutMs: 0, logger });
    const path = l.pathFor(BASE, 3);
    mkdirSync(dir, { recursive: true });
    const pid = deadPid();
    writeHolder(path, { pid, userId: 3 });
    const release = await l.acquire(BASE, 3);
    const warning = lines
      .map((s) => JSON.parse(s) as { level: string; msg: string })
      .find((l) => l.level === 'warn');
    expect(warning?.msg).toContain(`pid ${pid} on this host, has exited`);
    release();
    expect(existsSync(path)).toBe(false);
  });

  it("breaks a lock left with this process's own pid by an earlier process (a restarted container)", async () => {
    const dir = scratch();
    const { logger, lines } = capturingLogger();
    const l = locks(dir, { timeoutMs: 0, logger });
    const path = l.pathFor(BASE, 4);
    mkdirSync(dir, { recursive: true });
    // Same hostname, same pid as us, but a token this process never issued.
    writeHolder(path, { pid: process.pid, userId: 4, token: 'left-by-the-previous-run' });
    const release = await l.acquire(BASE, 4);
    expect(lines.join('')).toContain("earlier process with this process's pid");
    release();
    expect(existsSync(path)).toBe(false);
    // Our pid but another worker thread's lock: that holder is alive, so only the age may break it.
    const sibling = l.pathFor(BASE, 14);
    writeHolder(sibling, { pid: process.pid, userId: 14, threadId: 99, token: 'a-sibling-thread' });
    await expect(locks(dir, { timeoutMs: 100 }).acquire(BASE, 14)).rejects.toBeInstanceOf(
      UserLockTimeoutError,
    );
    expect(existsSync(sibling)).toBe(true);
  });

  it('does not ask about a pid from another pid namespace or boot: only the age can break that lock', async () => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true });
    const l = locks(dir, { timeoutMs: 150 });
    const dead = deadPid();
    // Host networking: same hostname, but the holder's pids live in another namespace, where
    // `dead` may well be a live process. Likewise a holder recorded before a reboot.
    writeHolder(l.pathFor(BASE, 10), { pid: dead, userId: 10, pidNs: 'pid:[4026531999]' });
    writeHolder(l.pathFor(BASE, 11), { pid: dead, userId: 11, bootId: 'another-boot' });
    await expect(l.acquire(BASE, 10)).rejects.toBeInstanceOf(UserLockTimeoutError);
    await expect(l.acquire(BASE, 11)).rejects.toBeInstanceOf(UserLockTimeoutError);
    // The same dead pid with no namespace or boot recorded (or matching ones) is broken at once.
    writeHolder(l.pathFor(BASE, 12), { pid: dead, userId: 12 });
    (await l.acquire(BASE, 12))();
  });

  it('stops waiting at once when its signal aborts, with a typed error, taking no lock', async () => {
    const dir = scratch();
    const holder = locks(dir);
    const release = await holder.acquire(BASE, 13);
    const stop = new AbortController();
    const waiting = locks(dir, { timeoutMs: 60_000, signal: stop.signal })
      .acquire(BASE, 13)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    stop.abort('SIGTERM');
    const err = await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(LockWaitInterruptedError);
    expect((err as LockWaitInterruptedError).exitCode).toBe(ExitCode.interrupted);
    expect((err as Error).message).toContain('SIGTERM');
    expect((err as Error).message).toContain('Nothing was changed');
    // The holder's lock is still its own.
    expect(observeLock(holder.pathFor(BASE, 13))).toMatchObject({ kind: 'held' });
    release();
  });

  it('times out on a live holder with a typed error that names the user, the file and the holder', async () => {
    const dir = scratch();
    const holder = locks(dir);
    const release = await holder.acquire(BASE, 5);
    const path = holder.pathFor(BASE, 5);
    const started = Date.now();
    const err = await locks(dir, { timeoutMs: 300 })
      .acquire(BASE, 5)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(err).toBeInstanceOf(UserLockTimeoutError);
    const e = err as UserLockTimeoutError;
    expect(e.exitCode).toBe(ExitCode.failure);
    expect(e.lockPath).toBe(path);
    expect(e.message).toContain(path);
    expect(e.message).toContain('user 5');
    expect(e.message).toContain(`pid ${process.pid} on host ${hostname()}`);
    expect(e.hint).toContain(`delete ${path}`);
    // The live holder's file is untouched.
    expect(existsSync(path)).toBe(true);
    release();
  });

  it('breaks a lock older than the max age, but not a fresh one held on another host', async () => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true });
    const { logger, lines } = capturingLogger();
    const l = locks(dir, { timeoutMs: 200, maxAgeMs: 60_000, logger });
    const path = l.pathFor(BASE, 9);
    // Another host: its pid cannot be asked about here, only the age tells.
    const dead = deadPid();
    writeHolder(path, { pid: dead, hostname: 'elsewhere.invalid', userId: 9 });
    await expect(l.acquire(BASE, 9)).rejects.toBeInstanceOf(UserLockTimeoutError);
    expect(existsSync(path)).toBe(true);

    const old = new Date(Date.now() - 61_000);
    utimesSync(path, old, old);
    const release = await l.acquire(BASE, 9);
    expect(lines.join('')).toContain('max age');
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps refreshing a held lock, so a long operation is not taken for a dead one', async () => {
    const dir = scratch();
    // maxAge 3 s → the holder touches the file every second.
    const l = locks(dir, { maxAgeMs: 3_000 });
    const release = await l.acquire(BASE, 8);
    const path = l.pathFor(BASE, 8);
    const old = new Date(Date.now() - 2_000);
    utimesSync(path, old, old);
    await new Promise((r) => setTimeout(r, 1_500));
    const seen = observeLock(path);
    expect(seen.kind === 'held' && Date.now() - seen.mtimeMs).toBeLessThan(1_500);
    // Another waiter therefore still sees a live lock after what would have been the max age.
    await expect(locks(dir, { maxAgeMs: 3_000, timeoutMs: 600 }).acquire(BASE, 8)).rejects.toBeInstanceOf(
      UserLockTimeoutError,
    );
    release();
  });

  it('does not let a second waiter that judged the same stale lock remove the fresh one', async () => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true });
    const l = locks(dir, { timeoutMs: 0 });
    const path = l.pathFor(BASE, 6);
    writeHolder(path, { pid: deadPid(), userId: 6 });
    // Both waiters looked at the file while it was stale.
    const seenByFirst = observeLock(path);
    const seenBySecond = observeLock(path);
    expect(seenByFirst.kind).toBe('held');
    if (seenByFirst.kind !== 'held' || seenBySecond.kind !== 'held') return;
    // The first breaks it and takes the lock; only then does the second act on what it saw.
    expect(breakStaleLock(path, seenByFirst)).toBe('broken');
    const release = await l.acquire(BASE, 6);
    const fresh = observeLock(path);
    expect(breakStaleLock(path, seenBySecond)).toBe('changed');
    expect(observeLock(path)).toEqual(fresh);
    // …and, trying again, it cannot get in: the lock is the first waiter's now.
    await expect(l.acquire(BASE, 6)).rejects.toBeInstanceOf(UserLockTimeoutError);
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('lets exactly one of several processes in at a time, also while they break a stale lock', async () => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true });
    const l = locks(dir);
    writeHolder(l.pathFor(BASE, 4), { pid: deadPid(), userId: 4 });
    const moduleUrl = pathToFileURL(join(ROOT, 'src/connector/provisioning/user-lock.ts')).href;
    const inside = join(dir, 'inside');
    // Each child takes the lock 5 times; inside it, a `wx` marker proves nobody else is inside.
    const script = `
      import { openSync, closeSync, unlinkSync } from 'node:fs';
      const { UserLockFiles } = await import(${JSON.stringify(moduleUrl)});
      const l = new UserLockFiles({ dir: ${JSON.stringify(dir)}, timeoutMs: 20000, pollMs: { min: 1, max: 10 } });
      let overlaps = 0;
      for (let i = 0; i < 5; i++) {
        const release = await l.acquire(${JSON.stringify(BASE)}, 4);
        try { closeSync(openSync(${JSON.stringify(inside)}, 'wx')); } catch { overlaps++; }
        await new Promise((r) => setTimeout(r, 10));
        try { unlinkSync(${JSON.stringify(inside)}); } catch {}
        release();
      }
      process.stdout.write(String(overlaps));
    `;
    const runs = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<{ code: number | null; out: string; err: string }>((done) => {
            const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
              cwd: ROOT,
            });
            let out = '';
            let err = '';
            child.stdout.on('data', (d) => (out += String(d)));
            child.stderr.on('data', (d) => (err += String(d)));
            child.on('close', (code) => done({ code, out, err }));
          }),
      ),
    );
    for (const r of runs) {
      expect(r.err).toBe('');
      expect(r).toMatchObject({ code: 0, out: '0' });
    }
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);
});

describe('Provisioner with lock files', () => {
  it('waits for nothing in a dry run, and changes nothing when the lock stays held', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    arrange(sim, 2, 'role', [existingIds(sim, 'role')[0]!]);
    const role = existingIds(sim, 'role')[1]!;
    const lockDir = join(dir, 'locks');
    const other = locks(lockDir);
    const release = await other.acquire(baseOf(sim), 2);
    cleanup.push(release);

    const dry = provisionerFor(sim, dir, { dryRun: true, lockTimeoutMs: 100 });
    expect((await dry.grant(`role:${role}:member`, 2)).outcome).toBe('planned');

    const p = provisionerFor(sim, dir, { lockTimeoutMs: 200 });
    expect(p.lockDir).toBe(lockDir);
    sim.resetCounters();
    const err = await p.grant(`role:${role}:member`, 2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserLockTimeoutError);
    expect((err as Error).message).toContain(other.pathFor(baseOf(sim), 2));
    expect(sim.counters().total).toBe(0); // not even a read: the lock comes first
    expect(holdings(sim, 2, 'role')).toEqual([existingIds(sim, 'role')[0]]);

    // recover reports the entry it could not lock as failed (and keeps it for the next run).
    const journal = join(dir, 'journal.jsonl');
    writeFileSync(
      journal,
      JSON.stringify({
        type: 'intent',
        entryId: 'e1',
        time: new Date().toISOString(),
        baseUrl: baseOf(sim),
        userId: 2,
        operation: 'revoke',
        entitlementId: `role:${role}:member`,
        field: 'roles',
        intended: [{ id: existingIds(sim, 'role')[0]! }],
        removed: [{ id: role }],
      }) + '\n',
    );
    const report = await p.recover();
    expect(report.entries).toHaveLength(1);
    expect(report.entries[0]).toMatchObject({ outcome: 'failed' });
    expect(report.entries[0]!.message).toContain('lock file');
    expect(writeCount(sim)).toBe(0);

    release();
    expect((await p.grant(`role:${role}:member`, 2)).outcome).toBe('granted');
    expect(readdirSync(lockDir)).toEqual([]);
  });
});

/** `grant role:<role>:member <user> -p` through the built CLI, with the journal and audit log in `dir`. */
function grantCli(
  t: { sim: Parameters<typeof simulatorFlags>[0]; dir: string },
  role: number,
  user: number,
  extra: string[] = [],
  opts: Parameters<typeof cli>[1] = {},
) {
  return cli(
    [
      'grant',
      `role:${role}:member`,
      String(user),
      '-p',
      ...simulatorFlags(t.sim),
      '--journal',
      join(t.dir, 'journal.jsonl'),
      '--audit-log',
      join(t.dir, 'audit.jsonl'),
      ...extra,
    ],
    { cwd: t.dir, ...opts },
  );
}

describe('two CLI processes granting to one user at once', () => {
  it('keeps both grants in a tenant that replaces arrays', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    const [r1, r2, r3] = existingIds(sim, 'role');
    const user = 4;
    arrange(sim, user, 'role', [r1!]);
    // Each write waits a second before the simulator applies it: without a lock, both processes
    // read [r1] before either write lands, and the later PUT drops the other's role.
    sim.faults.add({ kind: 'delay', ms: 1_000, match: { method: 'PUT', path: `/api/users/${user}` } });
    const grant = (role: number) => grantCli(t, role, user, ['--log-level', 'warn'], { timeoutMs: 30_000 });
    const runs = await Promise.all([grant(r2!), grant(r3!)]);
    for (const r of runs) expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(holdings(sim, user, 'role')).toEqual([r1, r2, r3].sort((a, b) => a! - b!));
    // Serialised, not lucky: the second grant read the list with the first one's role in it.
    const audit = readJsonLines(join(dir, 'audit.jsonl')) as { before: { id: number }[] }[];
    expect(audit).toHaveLength(2);
    expect(audit.map((a) => a.before.length).sort()).toEqual([1, 2]);
    expect(readdirSync(join(dir, 'locks'))).toEqual([]);
  }, 30_000);

  it('gives up after BATON_LOCK_TIMEOUT with exit 1, naming the lock file, and writes nothing', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    const role = existingIds(sim, 'role')[0]!;
    arrange(sim, 3, 'role', []);
    const holder = locks(join(dir, 'locks'));
    const release = await holder.acquire(baseOf(sim), 3);
    cleanup.push(release);
    sim.resetCounters();
    const started = Date.now();
    const run = await grantCli(t, role, 3, [], { env: { BATON_LOCK_TIMEOUT: '300ms' } });
    const took = Date.now() - started;
    expect(run.code).toBe(ExitCode.failure);
    expect(run.stderr).toContain(holder.pathFor(baseOf(sim), 3));
    expect(run.stderr).toContain(`pid ${process.pid}`);
    expect(run.stderr).toContain('Nothing was changed in Coupa');
    expect(took).toBeLessThan(10_000); // the 300 ms applied, not the 60 s default
    expect(writeCount(sim)).toBe(0);
    expect(holdings(sim, 3, 'role')).toEqual([]);
  }, 30_000);

  it("SIGINT while waiting for another process's lock stops without changing anything (exit 130)", async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    const role = existingIds(sim, 'role')[0]!;
    arrange(sim, 3, 'role', []);
    const other = new UserLockFiles({ dir: join(dir, 'locks') });
    const release = await other.acquire(baseOf(sim), 3);
    cleanup.push(release);
    sim.resetCounters();
    let sent = false;
    const run = await grantCli(t, role, 3, ['--log-level', 'info'], {
      env: { BATON_LOCK_TIMEOUT: '20s' },
      onStderr: (text, child) => {
        if (!sent && text.includes('waiting up to')) {
          sent = true;
          child.kill('SIGINT');
          // The other process finishes a moment later: the stopped one must not go on then.
          setTimeout(release, 1_000);
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(ExitCode.interrupted);
    expect(run.stderr).toContain('while waiting for another process');
    expect(writeCount(sim)).toBe(0);
    expect(holdings(sim, 3, 'role')).toEqual([]);
  }, 30_000);

  it('removes the lock file after SIGINT: once (the change finishes) and twice (exit at once)', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    const role = existingIds(sim, 'role')[0]!;
    const lockDir = join(dir, 'locks');
    const base = baseOf(sim);
    const paths = new UserLockFiles({ dir: lockDir });
    for (const user of [5, 6]) {
      arrange(sim, user, 'role', []);
      sim.faults.add({ kind: 'delay', ms: 1_500, match: { method: 'PUT', path: `/api/users/${user}` } });
    }
    /** Sends `signals` SIGINTs once the process holds the user's lock (its PUT is then in flight). */
    const interrupted = async (user: number, signals: number) => {
      const child = grantCli(t, role, user, [], { onStderr: () => undefined });
      const path = paths.pathFor(base, user);
      const pid = await new Promise<number>((done) => {
        const poll = setInterval(() => {
          const seen = existsSync(path) ? observeLock(path) : undefined;
          if (seen?.kind === 'held' && seen.holder) {
            clearInterval(poll);
            done(seen.holder.pid);
          }
        }, 10);
      });
      for (let i = 0; i < signals; i++) {
        process.kill(pid, 'SIGINT');
        await new Promise((r) => setTimeout(r, 50));
      }
      return { run: await child, path };
    };
    const [once, twice] = await Promise.all([interrupted(5, 1), interrupted(6, 2)]);
    expect(once.run.code).toBe(ExitCode.interrupted);
    expect(holdings(sim, 5, 'role')).toEqual([role]); // the change in flight was finished
    expect(twice.run.code).toBe(ExitCode.interrupted);
    expect(existsSync(once.path)).toBe(false);
    expect(existsSync(twice.path)).toBe(false);
    expect(readdirSync(lockDir)).toEqual([]);
  }, 30_000);
});
