import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { UnknownUserError } from '../../src/connector/provisioning/index.js';
import type { Simulator } from '../../src/simulator/index.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';
import { provisionerFor, TENANT } from './helpers.js';

/**
 * A failed change is logged once by whoever reports it. The CLI's record of it is provisioning's
 * own "provisioning change failed" line at error (its JSON error record); service mode reports
 * the task instead and asks for that line at debug.
 */
let sim: Simulator;
let dir: string;
let stop: () => Promise<void>;
beforeAll(async () => ({ sim, dir, stop } = await testSimulatorWithDir({ tenant: TENANT })));
afterAll(() => stop());

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', format: 'json', destination: sink }) };
}

describe('the record of a failed change', () => {
  it.each([
    [undefined, 'error'],
    ['debug', 'debug'],
  ] as const)(
    'failureLogLevel %s: "provisioning change failed" at %s, the error in err',
    async (option, level) => {
      const { lines, logger } = capture();
      const p = provisionerFor(sim, dir, { logger, failureLogLevel: option });
      await expect(p.grant('role:1:member', 999_999)).rejects.toBeInstanceOf(UnknownUserError);
      const failed = lines.filter((l) => l.msg === 'provisioning change failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ level, operation: 'grant', userId: 999_999, outcome: 'error' });
      expect(String(failed[0]!.err)).toMatch(/Coupa has no user "999999"/);
      expect(failed[0]).not.toHaveProperty('error');
    },
  );
});
