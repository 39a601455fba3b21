import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { tempDir } from './temp-dir.js';

/** Starting the Coupa simulator, the same way in every test folder. */

/** A simulator with no rate limit and no latency unless the test is about them. */
export function testSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ rateLimit: false, latencyMs: 0, ...opts });
}

/** A test simulator plus a scratch folder (journal, audit log, outputs); `stop` removes both. */
export async function testSimulatorWithDir(
  opts: SimulatorOptions = {},
): Promise<{ sim: Simulator; dir: string; stop: () => Promise<void> }> {
  const sim = await testSimulator(opts);
  const scratch = tempDir('coupa-sim-test-');
  return {
    sim,
    dir: scratch.dir,
    stop: async () => {
      await sim.close();
      scratch.cleanup();
    },
  };
}

/** Runs `fn` against a test simulator of its own, closed afterwards whatever happens. */
export async function withTestSimulator<T>(
  opts: SimulatorOptions,
  fn: (s: Simulator) => Promise<T>,
): Promise<T> {
  const s = await testSimulator(opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Slow enough (latency, a small rate limit, 2,000 users) that a test can interrupt a sync midway. */
export const SLOW_SIMULATOR: SimulatorOptions = {
  tenant: { seed: 2, users: 2000 },
  latencyMs: 150,
  rateLimit: { perSecond: 10, burst: 5 },
};

/** An access token from the simulator's token endpoint, for tests that talk HTTP to it without the client. */
export async function simulatorToken(
  s: { url: string; clientId: string; clientSecret: string },
  scope?: string,
): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: s.clientId,
    client_secret: s.clientSecret,
  });
  if (scope !== undefined) body.set('scope', scope);
  const res = await fetch(`${s.url}/oauth2/token`, { method: 'POST', body });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
