/**
 * SLOW (about 10–30 s): packs the repo, installs it without dev dependencies and runs the CLI as
 * the container image does: only environment variables, no HOME, the root filesystem read-only
 * but for one temp folder. Docker cannot run on the build machine, so this is the image's test.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { type Simulator } from '../../src/simulator/index.js';
import { startFakeC1 } from '../../src/simulator/c1/index.js';
import { cli, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  installedPackages,
  installProduction,
  lockDownWithoutNamespace,
  runSandboxed,
  SANDBOX,
  unlock,
} from './production-install.js';
import pkg from '../../package.json' with { type: 'json' };
import { testSimulator } from '../helpers/simulator.js';

const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean }>;
};

describe(`production install, read-only root (${SANDBOX})`, () => {
  const scratch = tempDir('coupa-deploy-');
  let app = '';
  let writable = '';
  let sim: Simulator;

  beforeAll(async () => {
    app = installProduction(scratch.dir);
    writable = join(scratch.dir, 'tmp');
    mkdirSync(writable);
    lockDownWithoutNamespace(app);
    sim = await testSimulator({ tenant: { users: 40, seed: 7 } });
  }, 120_000);

  afterAll(async () => {
    await sim?.close();
    unlock(app);
    scratch.cleanup();
  });

  const run = (args: string[], env: Record<string, string> = {}, onSpawn?: (c: ChildProcess) => void) =>
    runSandboxed([join(app, 'bin/coupa-connector.js'), ...args], {
      writable,
      cwd: app,
      env,
      onSpawn,
      timeoutMs: 90_000,
    });

  it('holds the runtime dependencies and none of the dev-only ones', () => {
    const installed = installedPackages(app);
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && entry.dev === true)
      .map(([path]) => path.slice('node_modules/'.length));
    expect(devOnly).toContain('typescript');
    for (const dep of Object.keys(pkg.dependencies)) expect(installed).toContain(dep);
    for (const dev of devOnly) expect(installed).not.toContain(dev);
    expect(existsSync(join(app, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
  });

  it('really is read-only outside the temp folder', async () => {
    const probe = (target: string) =>
      `try { require('fs').writeFileSync(${JSON.stringify(target)}, 'x'); console.log('wrote') } catch (e) { console.log(e.code) }`;
    const denied = await runSandboxed(['-e', probe(join(app, 'probe.txt'))], { writable, cwd: app, env: {} });
    expect(denied.stdout.trim()).toMatch(/^(EROFS|EACCES)$/);
    const allowed = await runSandboxed(['-e', probe(join(writable, 'probe.txt'))], {
      writable,
      cwd: app,
      env: {},
    });
    expect(allowed.stdout.trim()).toBe('wrote');
  });

  it('--help prints the usage, the service-mode flags and the commands', async () => {
    const r = await run(['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: coupa-connector');
    expect(r.stdout).toContain('capabilities');
    for (const flag of ['--client-id', '--client-secret', '--c1z-temp-dir', '--health-check']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('capabilities prints what the development build prints', async () => {
    const installed = await run(['capabilities']);
    expect(installed.code).toBe(0);
    const dev = await cli(['capabilities']);
    expect(JSON.parse(installed.stdout)).toEqual(JSON.parse(dev.stdout));
  });

  it('syncs with only BATON_* variables, writing nothing but its output in the temp folder', async () => {
    const out = join(writable, 'sync.c1z');
    const r = await run([], {
      BATON_BASE_URL: sim.url,
      BATON_COUPA_CLIENT_ID: sim.clientId,
      BATON_COUPA_CLIENT_SECRET: sim.clientSecret,
      BATON_RATE_LIMIT: '0',
      BATON_FILE: out,
      BATON_LOG_FORMAT: 'json',
    });
    expect(r.stderr).not.toMatch(/EROFS|EACCES|read-only/i);
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    // Temp databases of the writer are gone; only the c1z (and earlier probes) remain.
    expect(readdirSync(writable).filter((f) => f !== 'probe.txt')).toEqual(['sync.c1z']);
    const listed = await cli(['stats', '-f', out, '-o', 'json']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('"user"');
  });

  it('runs service mode from env vars alone: Hello, a sync task, SIGTERM exits 0 leaving no temp file', async () => {
    const fake = await startFakeC1({ nextPollMs: 200, nextHeartbeatMs: 1000 });
    const before = readdirSync(writable);
    try {
      let child: ChildProcess | undefined;
      const running = run(
        [],
        {
          ...fake.env(),
          BATON_HOST_ID: 'deploy-test',
          BATON_BASE_URL: sim.url,
          BATON_COUPA_CLIENT_ID: sim.clientId,
          BATON_COUPA_CLIENT_SECRET: sim.clientSecret,
          BATON_RATE_LIMIT: '0',
          BATON_C1Z_TEMP_DIR: writable,
          BATON_LOG_FORMAT: 'json',
        },
        (c) => (child = c),
      );
      const hello = await fake.waitForHello({ timeoutMs: 30_000 });
      expect(hello.request.hostId).toBe('deploy-test');
      const task = fake.tasks.syncFull();
      const finish = await fake.waitForFinish(task.id, { timeoutMs: 60_000 });
      expect(finish.outcome, finish.message).toBe('success');
      expect(fake.records.uploads.filter((u) => u.taskId === task.id)).toHaveLength(1);
      child!.kill('SIGTERM');
      const r = await running;
      expect(r.stderr).not.toMatch(/EROFS|EACCES|read-only/i);
      expect(r.code).toBe(0);
      expect(readdirSync(writable).sort()).toEqual(before.sort());
    } finally {
      await fake.close();
    }
  });
});
