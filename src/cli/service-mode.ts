import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { create } from '@bufbuild/protobuf';
import { z } from 'zod';
import { ConfigError, ExitCode } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { registerSecret } from '../secrets.js';
import { resolveBaseUrl, type CoupaClient } from '../coupa/index.js';
import { ArrayModeMemory, Provisioner } from '../connector/provisioning/index.js';
import { parseCredentials } from '../c1/credentials.js';
import { C1Client } from '../c1/client.js';
import { describeC1Error, runDaemon, type TaskHandler } from '../c1/daemon.js';
import { buildInfo, osInfo, packageInfo } from '../c1/build-info.js';
import { connectorMetadata } from '../c1/metadata.js';
import { BatonServiceHelloRequestSchema } from '../c1/messages.js';
import { fullSyncHandler } from '../c1/handlers/full-sync.js';
import { createAccountHandler, grantHandler, revokeHandler } from '../c1/handlers/provisioning.js';
import {
  createServiceMetrics,
  startHealthServer,
  type HealthCheck,
  type HealthServer,
  type ServiceMetrics,
} from '../c1/ops/index.js';
import { clientFromOptions, type ConnectionOptions } from './connection.js';
import { option, parseDuration, parseWholeNumber, type LogOptions } from './options.js';
import { addHealthCheckOptions, type HealthCheckOptions } from './health-check-options.js';
import { provisioningFiles, settleWindowMs, type ProvisioningFlags } from './provisioning-one-shot.js';

/**
 * Service mode: with --client-id/--client-secret (BATON_CLIENT_ID/BATON_CLIENT_SECRET) the default
 * command becomes a long-running ConductorOne connector, as baton-coupa does. The flags keep
 * baton-sdk's names; see docs/service-mode.md.
 */
export interface ServiceModeOptions extends ConnectionOptions, HealthCheckOptions, ProvisioningFlags {
  logLevel: LogOptions['logLevel'];
  logFormat: LogOptions['logFormat'];
  clientId?: string;
  clientSecret?: string;
  skipFullSync?: boolean;
  c1zTempDir?: string;
  taskConcurrency: number;
  shutdownTimeout: number;
  skipAccountGroups?: boolean;
}

export const DEFAULT_TASK_CONCURRENCY = 3;
/** Fits Kubernetes' default 30 s termination grace, leaving time for the last FinishTasks. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

/** One range in every message: 0 and 101 are wrong for the same reason. */
const concurrency = parseWholeNumber('--task-concurrency', 1, 100);

export function addServiceModeOptions(cmd: Command): Command {
  cmd
    .addOption(
      option(
        '--client-id <id>',
        'ConductorOne client id; with --client-secret, runs as a ConductorOne connector (service mode)',
      ),
    )
    .addOption(
      option('--client-secret <secret>', 'ConductorOne client secret; prefer the environment variable'),
    )
    .addOption(option('--skip-full-sync', 'service mode: answer full sync tasks with an empty sync'))
    .addOption(
      option(
        '--c1z-temp-dir <dir>',
        'service mode: folder for the temporary c1z of each sync task (default: OS temp dir)',
      ),
    )
    .addOption(
      option('--task-concurrency <n>', 'service mode: tasks run at the same time (1-100)')
        .argParser(concurrency)
        .default(DEFAULT_TASK_CONCURRENCY),
    )
    .addOption(
      option(
        '--shutdown-timeout <duration>',
        'service mode: after SIGTERM/SIGINT, how long running tasks may take before they are handed back to ConductorOne',
      )
        .argParser(parseDuration('--shutdown-timeout'))
        .default(DEFAULT_SHUTDOWN_TIMEOUT_MS, '25s'),
    );
  addHealthCheckOptions(cmd);
  return cmd;
}

/** baton's rule: a client id (or secret) given means service mode; both are then required. */
export function isServiceMode(opts: { clientId?: string; clientSecret?: string }): boolean {
  return Boolean(opts.clientId?.trim() || opts.clientSecret?.trim());
}

/** Option keys only service mode reads. */
const SERVICE_ONLY_OPTIONS = [
  'skipFullSync',
  'c1zTempDir',
  'taskConcurrency',
  'shutdownTimeout',
  'healthCheck',
  'healthCheckPort',
  'healthCheckBindAddress',
];

/**
 * Outside service mode its flags do nothing; given by flag or variable (not left at a default, nor
 * a boolean variable set to false), they mean the client id was forgotten, so the run stops instead
 * of syncing once and exiting 0 where a long-running connector was meant.
 */
export function rejectServiceOnlyOptions(cmd: Command): void {
  const given = cmd.options.filter((o) => {
    const key = o.attributeName();
    const source = cmd.getOptionValueSource(key);
    return (
      SERVICE_ONLY_OPTIONS.includes(key) &&
      (source === 'cli' || source === 'env') &&
      cmd.getOptionValue(key) !== false
    );
  });
  if (given.length === 0) return;
  const names = given.map((o) =>
    cmd.getOptionValueSource(o.attributeName()) === 'env' ? `${o.long} (${o.envVar})` : o.long,
  );
  throw new ConfigError(
    `${names.join(' and ')} ${given.length === 1 ? 'is' : 'are'} for service mode, which needs --client-id ` +
      'and --client-secret (BATON_CLIENT_ID, BATON_CLIENT_SECRET).',
    'Add them to run as a ConductorOne connector, or leave these out to sync once.',
  );
}

function checkTempDir(dir: string | undefined): string | undefined {
  if (dir === undefined || dir.trim() === '') return undefined;
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch {
    throw new ConfigError(
      `--c1z-temp-dir ${dir} is not a writable folder.`,
      'Create it (in a container: an emptyDir or tmpfs mount) or leave the flag out to use the OS temp dir.',
    );
  }
  return dir;
}

function buildProvisioner(
  opts: ServiceModeOptions,
  api: CoupaClient,
  logger: Logger,
  stop: AbortSignal,
): Provisioner {
  const baseUrl = resolveBaseUrl({ domain: opts.coupaDomain, baseUrl: opts.baseUrl }).toString();
  // The one-shot commands' files: `recover -p` sees this journal, and the locks interlock.
  const { journalPath, auditLogPath } = provisioningFiles(opts, baseUrl);
  return new Provisioner({
    api,
    baseUrl,
    logger,
    journalPath,
    auditLogPath,
    arrayModes: new ArrayModeMemory(join(dirname(journalPath), 'array-modes.json')),
    retry: { settleMs: settleWindowMs(opts) },
    lockTimeoutMs: opts.lockTimeout,
    signal: stop,
    // A failed task is reported once, by the task loop's "task failed" line.
    failureLogLevel: 'debug',
  });
}

const ProbeSchema = z.array(z.unknown());

/**
 * /health's check: one page of users, with one client kept for every probe so its token is reused
 * (a probe every few seconds must not cost a token request each), and its requests counted in
 * coupa_connector_coupa_requests_total like every other. The health server bounds each check's
 * time; a request it stops waiting for finishes in the background within the client's timeouts.
 */
function coupaHealthCheck(opts: ServiceModeOptions, logger: Logger, metrics: ServiceMetrics): HealthCheck {
  let probe: { client: CoupaClient; count: () => void } | undefined;
  return async () => {
    if (!probe) {
      const client = clientFromOptions(opts, { logger });
      probe = { client, count: requestCounter(client, metrics) };
    }
    try {
      await probe.client.get('/api/users', { query: { limit: '1' }, fields: ['id'], schema: ProbeSchema });
    } finally {
      probe.count();
    }
  };
}

/**
 * Adds what a long-lived client sent since the last call to the metrics (they take changes, not
 * running totals). A request still in flight is counted by a later call.
 */
function requestCounter(client: CoupaClient, metrics: ServiceMetrics): () => void {
  let counted = { requests: 0, throttled: 0 };
  return () => {
    const { requests, throttled } = client.stats();
    metrics.addCoupaRequests(requests - counted.requests, throttled - counted.throttled);
    counted = { requests, throttled };
  };
}

/** Runs the handler, then counts the requests its client sent. */
function counting(handler: TaskHandler, count: (() => void) | undefined): TaskHandler {
  return async (ctx) => {
    try {
      return await handler(ctx);
    } finally {
      count?.();
    }
  };
}

export async function runServiceMode(opts: ServiceModeOptions): Promise<void> {
  registerSecret(opts.clientSecret);
  const logger = createLogger({ level: opts.logLevel, format: opts.logFormat });
  const creds = parseCredentials(opts.clientId, opts.clientSecret);
  if (opts.dryRun) {
    throw new ConfigError(
      '--dry-run cannot be used in service mode: ConductorOne would be told that changes were made.',
      'Leave out -p to refuse every write task instead.',
    );
  }
  const tempDir = checkTempDir(opts.c1zTempDir);
  // The c1z writer keeps its scratch database in os.tmpdir(); with a read-only root filesystem
  // the only writable place may be this folder, so every temp file of a sync goes there.
  if (tempDir) process.env.TMPDIR = tempDir;
  // Coupa settings are checked now (missing domain or secret), not at the first task.
  clientFromOptions(opts, { logger });
  const client = new C1Client({ creds, logger });
  // What an operator needs to tell one instance's run from another's.
  logger.info(
    {
      version: packageInfo().version,
      provisioning: Boolean(opts.provisioning),
      hostId: client.hostId,
      conductorOne: client.endpoint.origin,
      coupa: resolveBaseUrl({ domain: opts.coupaDomain, baseUrl: opts.baseUrl }).toString(),
      taskConcurrency: opts.taskConcurrency,
    },
    'service mode starting',
  );

  const stopping = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(ExitCode.interrupted);
    logger.info({ signal: sig }, 'stop requested: no new tasks; running ones may finish (again to quit now)');
    stopping.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const metrics = createServiceMetrics();
  let ready = false;
  let health: HealthServer | undefined;
  try {
    if (opts.healthCheck) {
      health = await startHealthServer({
        host: opts.healthCheckBindAddress,
        port: opts.healthCheckPort,
        metrics,
        logger,
        isReady: () => ready && !stopping.signal.aborted,
        checkHealth: coupaHealthCheck(opts, logger, metrics),
      });
    }

    let provisioner: Provisioner | undefined;
    let countWrites: (() => void) | undefined;
    if (opts.provisioning) {
      const api = clientFromOptions(opts, { provisioning: true, logger });
      countWrites = requestCounter(api, metrics);
      provisioner = buildProvisioner(opts, api, logger, stopping.signal);
      await recoverOnce(provisioner, logger);
      countWrites();
    }
    const provisionerOrFail = () => {
      if (!provisioner) throw new Error('provisioning is not enabled');
      return provisioner;
    };

    const hello = {
      buildInfo: buildInfo(),
      osInfo: osInfo(),
      connectorMetadata: connectorMetadata(),
    };
    await runDaemon({
      client,
      logger,
      metrics,
      stop: stopping.signal,
      provisioning: Boolean(opts.provisioning),
      concurrency: opts.taskConcurrency,
      shutdownTimeoutMs: opts.shutdownTimeout,
      hello: (taskId) => create(BatonServiceHelloRequestSchema, { taskId, ...hello }),
      onReady: () => (ready = true),
      handlers: {
        syncFull: fullSyncHandler({
          coupaClient: (signal) =>
            clientFromOptions(opts, { accounting: !opts.skipAccountGroups, logger, signal }),
          skipFullSync: opts.skipFullSync,
          skipAccountGroups: opts.skipAccountGroups,
          tempDir,
          metrics,
        }),
        grant: counting(grantHandler(provisionerOrFail), countWrites),
        revoke: counting(revokeHandler(provisionerOrFail), countWrites),
        createAccount: counting(createAccountHandler(provisionerOrFail), countWrites),
      },
    });
  } finally {
    ready = false;
    await health?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Removals a crash left half-done are finished before any new task, as `recover` would; a failure
 * here is reported and does not stop the daemon (the journal keeps the entries for next time).
 */
async function recoverOnce(provisioner: Provisioner, logger: Logger): Promise<void> {
  try {
    const report = await provisioner.recover();
    for (const e of report.entries) {
      logger[e.outcome === 'failed' ? 'error' : 'info'](
        { user: e.userId, entitlement: e.entitlementId, outcome: e.outcome },
        `recover: ${e.message}`,
      );
    }
  } catch (err) {
    logger.error(
      { err: describeC1Error(err) },
      'recover at startup failed; the journal keeps its entries for the next start',
    );
  }
}
