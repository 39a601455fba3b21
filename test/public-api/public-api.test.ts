import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPackage } from '../helpers/package.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { Simulator } from '../../src/simulator/index.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * The package's public API as an embedder meets it: imported by package name (Node resolves the
 * package's own `exports` from inside it), from the package built from current source.
 */
function runModule(source: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', source], {
    cwd: builtPackage(),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('public API (package exports)', () => {
  let sim: Simulator;
  const tmp = tempDir('coupa-public-api-');
  beforeAll(async () => {
    sim = await testSimulator({ tenant: { seed: 9, users: 120 } });
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  it('exports the sync, provisioning, c1z and error entry points, and nothing deeper', () => {
    const names = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "const m = await import('coupa-connector'); console.log(JSON.stringify(Object.keys(m).sort()))",
        ],
        { cwd: builtPackage(), encoding: 'utf8' },
      ),
    ) as string[];
    for (const name of [
      'CoupaClient',
      'READ_SCOPES',
      'syncToC1z',
      'MemorySink',
      'Provisioner',
      'C1zReader',
      'C1zWriter',
      'CoupaConnectorError',
      'connectorCapabilities',
    ]) {
      expect(names).toContain(name);
    }
    const deep = runModule("await import('coupa-connector/dist/coupa/client.js')");
    expect(deep.status).not.toBe(0);
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  /** Asynchronous: the simulator answering the child lives in this process's event loop. */
  function runModuleAsync(source: string, env: NodeJS.ProcessEnv) {
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', source],
        { cwd: builtPackage(), env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
        (err, stdout, stderr) =>
          done({ status: err ? ((err.code as number | null) ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it("runs the README's library example: a sync into a c1z that reads back as the tenant", async () => {
    const out = join(tmp.dir, 'lib.c1z');
    // The README's example, with the simulator's address and credentials in the environment.
    const example = `
      import { CoupaClient, READ_SCOPES, syncToC1z, C1zReader } from 'coupa-connector';
      const client = new CoupaClient({
        baseUrl: process.env.COUPA_URL,
        clientId: process.env.COUPA_ID,
        clientSecret: process.env.COUPA_SECRET,
        scopes: READ_SCOPES,
      });
      const summary = await syncToC1z({ client, outPath: process.env.OUT });
      const reader = await C1zReader.open(process.env.OUT);
      console.log(JSON.stringify({ summary: summary.resources, stats: reader.stats() }));
      reader.close();
    `;
    const run = await runModuleAsync(example, {
      COUPA_URL: sim.url,
      COUPA_ID: sim.clientId,
      COUPA_SECRET: sim.clientSecret,
      OUT: out,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const { summary, stats } = JSON.parse(run.stdout) as {
      summary: Record<string, number>;
      stats: { resources: Record<string, number> };
    };
    const truth = sim.groundTruth();
    expect(summary.user).toBe(truth.users.length);
    expect(stats.resources.user).toBe(truth.users.length);
  });
});
