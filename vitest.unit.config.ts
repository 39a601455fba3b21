import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: the fast tier, for the edit-run loop. Pure functions and in-process checks
 * (ids, the membership types' list, the retry decision, URLs, parsing, the rate limiter, c1z ids
 * and timestamps), no child processes and no wall-clock waits. `npm test`
 * still runs everything, these included.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/connector/ids.test.ts',
      'test/connector/reads.test.ts',
      'test/connector/types.test.ts',
      'test/coupa/retry-decision.test.ts',
      'test/coupa/base-url.test.ts',
      'test/coupa/response.test.ts',
      'test/coupa/rate-limiter.test.ts',
      'test/c1z/ids-and-time.test.ts',
    ],
  },
});
