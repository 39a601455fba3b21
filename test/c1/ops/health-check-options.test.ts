import { afterEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { addHealthCheckOptions, type HealthCheckOptions } from '../../../src/cli/health-check-options.js';
import { applyBooleanEnv } from '../../../src/cli/options.js';
import { ConfigError } from '../../../src/errors.js';

const VARS = ['BATON_HEALTH_CHECK', 'BATON_HEALTH_CHECK_PORT', 'BATON_HEALTH_CHECK_BIND_ADDRESS'];

function parse(args: string[], env: Record<string, string> = {}): HealthCheckOptions {
  Object.assign(process.env, env);
  const cmd = addHealthCheckOptions(new Command('t')).exitOverride();
  cmd.parse(args, { from: 'user' });
  applyBooleanEnv(cmd);
  return cmd.opts<HealthCheckOptions>();
}

describe('health check flags', () => {
  afterEach(() => {
    for (const v of VARS) delete process.env[v];
  });

  it("defaults to baton-sdk's: off, 127.0.0.1:8081", () => {
    expect(parse([])).toEqual({ healthCheckPort: 8081, healthCheckBindAddress: '127.0.0.1' });
  });

  it('takes flags', () => {
    expect(
      parse(['--health-check', '--health-check-port', '9090', '--health-check-bind-address', '0.0.0.0']),
    ).toEqual({ healthCheck: true, healthCheckPort: 9090, healthCheckBindAddress: '0.0.0.0' });
  });

  it('takes the BATON_* variables, false included', () => {
    expect(
      parse([], {
        BATON_HEALTH_CHECK: 'true',
        BATON_HEALTH_CHECK_PORT: '9100',
        BATON_HEALTH_CHECK_BIND_ADDRESS: '::',
      }),
    ).toEqual({ healthCheck: true, healthCheckPort: 9100, healthCheckBindAddress: '::' });
    expect(parse([], { BATON_HEALTH_CHECK: 'false' }).healthCheck).toBe(false);
  });

  it.each(['0', '65536', 'http', '80.5'])('rejects port %j', (port) => {
    expect(() => parse(['--health-check-port', port])).toThrow(ConfigError);
  });
});
