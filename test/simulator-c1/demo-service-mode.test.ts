import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const cwd = tempDir('demo-service-cwd-');
afterAll(() => cwd.cleanup());

describe('coupa-connector demo --service-mode', () => {
  it('runs the connector as a real process against the fake ConductorOne: sync equal to the simulator, grant applied', async () => {
    const run = await cli(
      ['demo', '--service-mode', '--users', '120', '--latency', '0', '--rate-limit', '0'],
      {
        timeoutMs: 120_000,
        cwd: cwd.dir,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Hello accepted: {3}Coupa Connector/);
    expect(run.stdout).toMatch(/\[1\/2\] Full-sync task \w{27}\n {2}finished in [\d.]+ s: success/);
    expect(run.stdout).toMatch(
      /the c1z holds 120 users and (\d+) role grants; the simulator has 120 users and \1 role memberships \(equal\)/,
    );
    expect(run.stdout).toMatch(
      /finished: success, response c1\.connector\.v2\.GrantManagerServiceGrantResponse/,
    );
    expect(run.stdout).toMatch(/the simulated Coupa now lists \S+ with "[^"]+": yes/);
    expect(run.stdout).toMatch(/Connector stopped on SIGTERM \(exit 0\)/);
    // The grant's journal, audit log and locks went with the demo's scratch files, not here.
    expect(readdirSync(cwd.dir)).toEqual([]);
  });
});
