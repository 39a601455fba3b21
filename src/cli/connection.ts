import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { registerSecret } from '../secrets.js';
import {
  ACCOUNTING_READ_SCOPE,
  CoupaClient,
  DEFAULT_RATE_LIMIT,
  READ_SCOPES,
  resolveBaseUrl,
  WRITE_SCOPES,
} from '../coupa/index.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../coupa/bounded-body.js';
import { option, parseDuration, parseNumberInRange, parseWholeNumber } from './options.js';
import { applyConfigFile } from './config-file.js';

/** What addConnectionOptions adds to a command's parsed options. */
export interface ConnectionOptions {
  coupaDomain?: string;
  coupaClientId?: string;
  coupaClientSecret?: string;
  baseUrl?: string;
  rateLimit?: number;
  burst?: number;
  requestTimeout?: number;
  maxRetries?: number;
  maxResponseMb?: number;
  config?: string;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The ranges of the connection flags, shared with --config (which may set max-retries). */
export const CONNECTION_RANGES = {
  /** 0 = no client-side limit; below 0.1/s a sync of any size would take days. */
  rateLimit: { min: 0.1, max: 10_000, also: 0 },
  burst: { min: 1, max: 10_000 },
  requestTimeoutMs: { min: 100, max: 30 * 60_000 },
  maxRetries: { min: 0, max: 50 },
  maxResponseMb: { min: 1, max: 4096 },
} as const;

/**
 * The flags every command that talks to Coupa shares, named as in baton-coupa, each also read from
 * its BATON_* variable. Help shows the variable's name, never a value: the secret has no default.
 */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(
      option(
        '--coupa-domain <domain>',
        'Coupa instance: acme, acme.coupahost.com or https://acme.coupahost.com',
      ),
    )
    .addOption(option('--coupa-client-id <id>', 'OAuth2 client identifier (client-credentials grant)'))
    .addOption(
      option('--coupa-client-secret <secret>', 'OAuth2 client secret; prefer the environment variable'),
    )
    .addOption(
      option(
        '--base-url <url>',
        'explicit API root instead of --coupa-domain (a proxy, or the simulator on http://127.0.0.1)',
      ),
    )
    .addOption(
      option('--rate-limit <n>', 'requests per second sent to Coupa (0 = no client-side limit)')
        .argParser(parseNumberInRange('--rate-limit', CONNECTION_RANGES.rateLimit))
        .default(DEFAULT_RATE_LIMIT.perSecond),
    )
    .addOption(
      option('--burst <n>', 'requests that may go out back to back before --rate-limit applies')
        .argParser(parseWholeNumber('--burst', CONNECTION_RANGES.burst.min, CONNECTION_RANGES.burst.max))
        .default(DEFAULT_RATE_LIMIT.burst),
    )
    .addOption(
      option('--request-timeout <duration>', 'time limit per request attempt, e.g. 30s or 500ms')
        .argParser(parseDuration('--request-timeout', CONNECTION_RANGES.requestTimeoutMs))
        .default(DEFAULT_REQUEST_TIMEOUT_MS, '30s'),
    )
    .addOption(
      option('--max-retries <n>', 'retries per request on 429, 5xx and network errors (default 6)').argParser(
        parseWholeNumber('--max-retries', CONNECTION_RANGES.maxRetries.min, CONNECTION_RANGES.maxRetries.max),
      ),
    )
    .addOption(
      option(
        '--max-response-mb <n>',
        'largest response body read from Coupa, in MiB after decompression; larger ones fail (not retried)',
      )
        .argParser(
          parseWholeNumber(
            '--max-response-mb',
            CONNECTION_RANGES.maxResponseMb.min,
            CONNECTION_RANGES.maxResponseMb.max,
          ),
        )
        .default(DEFAULT_MAX_RESPONSE_BYTES / (1024 * 1024)),
    )
    .addOption(
      option(
        '--config <file>',
        'JSON file with coupa-domain, coupa-client-id, coupa-client-secret, base-url, max-retries (flags and env win)',
      ),
    );
}

function required(value: string | undefined, flag: string, env: string): string {
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`Missing ${flag}.`, `Pass ${flag} or set ${env}.`);
  }
  return value;
}

/**
 * Where a connection setting came from, for messages: the --config file if it filled the value,
 * the variable if the value is the variable's (flags win over variables, so a flag with another
 * value shows as such), else the command line.
 */
function sourceOf(
  value: string | undefined,
  beforeConfigFile: string | undefined,
  env: string,
  configFile: string | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  if (beforeConfigFile === undefined && configFile) return `the --config file ${configFile}`;
  if (process.env[env] === value) return env;
  return 'the command line';
}

/** A client for the parsed options; scopes: read set (+ write set when provisioning), accounting read if it is granted. */
export function clientFromOptions(
  opts: ConnectionOptions,
  ctx: { provisioning?: boolean; accounting?: boolean; logger: Logger; signal?: AbortSignal },
): CoupaClient {
  const given = { domain: opts.coupaDomain, baseUrl: opts.baseUrl };
  applyConfigFile(opts, (message) => ctx.logger.warn({ config: opts.config }, message));
  registerSecret(opts.coupaClientSecret);
  if (!opts.baseUrl && !opts.coupaDomain) {
    throw new ConfigError(
      'Missing --coupa-domain.',
      'Pass --coupa-domain (BATON_COUPA_DOMAIN), or --base-url (BATON_BASE_URL) for a proxy or the simulator.',
    );
  }
  const baseUrl = resolveBaseUrl({
    domain: opts.coupaDomain,
    baseUrl: opts.baseUrl,
    sources: {
      domain: sourceOf(opts.coupaDomain, given.domain, 'BATON_COUPA_DOMAIN', opts.config),
      baseUrl: sourceOf(opts.baseUrl, given.baseUrl, 'BATON_BASE_URL', opts.config),
    },
  });
  const clientId = required(opts.coupaClientId, '--coupa-client-id', 'BATON_COUPA_CLIENT_ID');
  const clientSecret = required(opts.coupaClientSecret, '--coupa-client-secret', 'BATON_COUPA_CLIENT_SECRET');
  const scopes = [...READ_SCOPES, ...(ctx.provisioning ? WRITE_SCOPES : [])];
  const perSecond = opts.rateLimit ?? DEFAULT_RATE_LIMIT.perSecond;
  return new CoupaClient({
    baseUrl,
    clientId,
    clientSecret,
    scopes,
    // Only account groups need it: an OAuth client set up without it still syncs everything else.
    optionalScopes: ctx.accounting ? [ACCOUNTING_READ_SCOPE] : undefined,
    rateLimit: perSecond === 0 ? false : { perSecond, burst: opts.burst ?? DEFAULT_RATE_LIMIT.burst },
    timeoutMs: opts.requestTimeout,
    maxResponseBytes: opts.maxResponseMb === undefined ? undefined : opts.maxResponseMb * 1024 * 1024,
    retry: { limit: opts.maxRetries },
    logger: ctx.logger,
    signal: ctx.signal,
  });
}
