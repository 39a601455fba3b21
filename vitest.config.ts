import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A private XDG state dir per worker: provisioning's default journal and locks live there.
    setupFiles: ['test/helpers/isolated-state.ts'],
    // A scratch folder per run, where tests that spawn the CLI get it built from current source.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores on CI: running more forks than that only adds contention to timing-sensitive
    // rate-limit tests.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
