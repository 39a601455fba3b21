import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { DEFAULT_HEALTH_CHECK_BIND_ADDRESS, DEFAULT_HEALTH_CHECK_PORT } from '../c1/ops/index.js';
import { option, parseWholeNumber } from './options.js';

/** What addHealthCheckOptions adds to a command's parsed options. */
export interface HealthCheckOptions {
  healthCheck?: boolean;
  healthCheckPort: number;
  healthCheckBindAddress: string;
}

function port(value: string): number {
  const n = parseWholeNumber('--health-check-port', 1)(value);
  if (n > 65535) throw new ConfigError(`--health-check-port must be at most 65535, got "${value}".`);
  return n;
}

/**
 * Service mode's health and metrics server, with baton-sdk's flag names and defaults. Loopback by
 * default: in a container, probes come from outside it, so pods bind 0.0.0.0 on purpose.
 */
export function addHealthCheckOptions(cmd: Command): Command {
  return cmd
    .addOption(option('--health-check', 'service mode: serve /health, /ready, /live and /metrics over HTTP'))
    .addOption(
      option('--health-check-port <port>', 'port of the --health-check server')
        .argParser(port)
        .default(DEFAULT_HEALTH_CHECK_PORT),
    )
    .addOption(
      option(
        '--health-check-bind-address <address>',
        'address the --health-check server listens on (0.0.0.0 for probes from outside a container)',
      ).default(DEFAULT_HEALTH_CHECK_BIND_ADDRESS),
    );
}
