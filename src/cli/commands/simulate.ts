import { Option, type Command } from 'commander';
import type { CliCommand } from '../command.js';
import { ConfigError } from '../../errors.js';
import { isLoopbackHost } from '../../coupa/index.js';
import { parseDuration, parsePositiveNumber, parseWholeNumber } from '../options.js';
import {
  ALL_LICENSE_FLAGS,
  DEFAULT_CLIENT_ID,
  DEFAULT_TENANT_SPEC,
  parseDrift,
  parseIdLayout,
  parseLatency,
  startSimulator,
  type DriftSpec,
  type IdLayoutSpec,
  type LatencySpec,
} from '../../simulator/index.js';

interface SimulateOptions {
  host: string;
  port: number;
  users: number;
  groups: number;
  roles: number;
  contentGroups: number;
  accountGroups: number;
  seed: number;
  latency: LatencySpec;
  ids: IdLayoutSpec;
  drift?: DriftSpec;
  rateLimit: number | boolean;
  burst: number;
  arrayMode: 'merge' | 'replace';
  tokenTtl: number;
  clientId?: string;
  clientSecret?: string;
  unrevokableLicenses?: string;
  membershipDelete?: boolean;
  missingScopeStatus: string;
  defaultOrder: 'id' | 'shuffled';
}

/** A parser whose RangeError becomes a usage error naming the flag. */
function asConfig<T>(flag: string, parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (err) {
      // The simulator's parsers say what they parse ("drift: …"); the flag says it already.
      if (err instanceof RangeError)
        throw new ConfigError(`${flag}: ${err.message.replace(/^(?:drift|latency|id layout): /, '')}.`);
      throw err;
    }
  };
}

/**
 * How to sync the simulator listening at `listenUrl`, with a --base-url the connector accepts: it
 * sends credentials over plain http to loopback only, so a wildcard address (0.0.0.0, ::) is
 * reached through loopback, and another host needs a TLS proxy in front.
 */
export function syncInstructions(listenUrl: string, clientId: string, clientSecret: string): string[] {
  const url = new URL(listenUrl);
  const command = (base: string) =>
    `  coupa-connector sync --base-url ${base} --coupa-client-id ${clientId} --coupa-client-secret ${clientSecret}`;
  if (isLoopbackHost(url.hostname)) return ['Sync it with:', command(url.origin)];
  const viaTls =
    'plain http goes to loopback only (credentials would travel unencrypted), so put a TLS proxy in front ' +
    'and pass its https URL as --base-url.';
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') {
    const local = `http://${url.hostname === '[::]' ? '[::1]' : '127.0.0.1'}:${url.port}`;
    return ['Sync it from this machine with:', command(local), `From another machine: ${viaTls}`];
  }
  return [
    `To sync it: the connector will not send credentials to ${url.origin}; ${viaTls}`,
    'Or listen on loopback (--host 127.0.0.1) and sync from this machine.',
  ];
}

/** A listen error as a usage error with what to do instead (Node's own is a stack trace). */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE')
    return new ConfigError(
      `--port ${port}: ${where} is already in use.`,
      'Stop what listens there, pick another port, or pass --port 0 for any free one (the URL is printed).',
    );
  if (code === 'EACCES')
    return new ConfigError(
      `--port ${port}: not allowed to listen on ${where} (ports below 1024 need privileges).`,
      'Pick a port above 1023, or --port 0 for any free one.',
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new ConfigError(
      `--host ${host}: not an address of this machine (${code}).`,
      'Use 127.0.0.1 (the default), or 0.0.0.0 to listen on every interface.',
    );
  return err;
}

export const simulateCommand: CliCommand = {
  register(program: Command) {
    program
      .command('simulate')
      .description(
        'Run a fake Coupa Core API (OAuth2, users, roles, groups, rate limit) on this machine until Ctrl-C.',
      )
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option(
        '--port <port>',
        'port to listen on (0 = any free port)',
        parseWholeNumber('--port', 0, 65_535),
        8443,
      )
      .option(
        '--users <n>',
        'number of users in the generated tenant',
        parseWholeNumber('--users', 0, 10_000_000),
        10_000,
      )
      .option(
        '--groups <n>',
        'number of user groups',
        parseWholeNumber('--groups', 0),
        DEFAULT_TENANT_SPEC.userGroups,
      )
      .option(
        '--roles <n>',
        'number of roles including the 4 built-ins',
        parseWholeNumber('--roles', 4),
        DEFAULT_TENANT_SPEC.roles,
      )
      .option(
        '--content-groups <n>',
        'number of content (business) groups',
        parseWholeNumber('--content-groups', 0),
        DEFAULT_TENANT_SPEC.contentGroups,
      )
      .option(
        '--account-groups <n>',
        'number of account groups',
        parseWholeNumber('--account-groups', 0),
        DEFAULT_TENANT_SPEC.accountGroups,
      )
      .option(
        '--seed <n>',
        'seed of the tenant generator (same seed, same tenant)',
        parseWholeNumber('--seed', 0),
        DEFAULT_TENANT_SPEC.seed,
      )
      .option(
        '--latency <spec>',
        'response time of every API response: 100ms (fixed), uniform:300ms-3s, lognormal:1s[,p99=3s]; ' +
          'add ,per-record=2ms,per-ref=0.5ms to grow with the answer',
        asConfig('--latency', (v) => parseLatency(v, parseDuration('--latency'))),
        0,
      )
      .option(
        '--ids <layout>',
        'how ids are spread: sparse (start far from 1, gaps, runs of holes, a few very large ids), ' +
          'dense (1..n), or sparse:gap=3,holes=0.002,hole-min=2000,hole-max=40000,start=10000,large=3',
        asConfig('--ids', parseIdLayout),
        'sparse',
      )
      .option(
        '--drift <spec>',
        'change the tenant while it is read: on (after every 5th users page: 2 users created, 1 deactivated, ' +
          '1 group and 1 role deleted), off, or every=5,create=2,deactivate=1,delete-groups=1,delete-roles=1',
        asConfig('--drift', parseDrift),
      )
      .option(
        '--rate-limit <perSecond>',
        'requests per second before 429',
        parsePositiveNumber('--rate-limit'),
        25,
      )
      .option('--no-rate-limit', 'turn the rate limiter off')
      .option('--burst <n>', 'burst allowance of the rate limiter', parsePositiveNumber('--burst'), 20)
      .addOption(
        new Option(
          '--array-mode <mode>',
          'what a non-empty association array on PUT does: merge (Coupa docs) or replace',
        )
          .choices(['merge', 'replace'])
          .default('merge'),
      )
      .option(
        '--token-ttl <seconds>',
        'access token lifetime in seconds',
        parseWholeNumber('--token-ttl', 1, 10 * 365 * 86_400),
        86_400,
      )
      .option(
        '--client-id <id>',
        `OAuth2 client id to accept (default: the built-in ${DEFAULT_CLIENT_ID}, printed at start)`,
      )
      .option(
        '--client-secret <secret>',
        'OAuth2 client secret to accept (default: a built-in throw-away secret, printed at start so a sync can use it; never a real one)',
      )
      .option(
        '--unrevokable-licenses <flags>',
        'comma-separated license flags that PUT false silently keeps, e.g. purchasing-user',
      )
      .option('--membership-delete', 'enable DELETE /api/user_group_memberships/:id')
      .addOption(
        new Option('--missing-scope-status <status>', 'status for a call the token lacks the scope for')
          .choices(['401', '403'])
          .default('403'),
      )
      .addOption(
        new Option('--default-order <order>', 'index order without order_by')
          .choices(['id', 'shuffled'])
          .default('id'),
      )
      .addHelpText(
        'after',
        `
At start it prints its URL, the client id and secret it accepts (throw-away values unless given
above: they protect nothing) and the sync command to run against it.

Examples:
  $ coupa-connector simulate --port 0                        any free port; the URL is printed
  $ coupa-connector simulate --users 100000 --latency lognormal:1s,p99=3s --ids sparse
  $ coupa-connector simulate --rate-limit 25 --drift on      Coupa's limit, a tenant that changes while read
  $ coupa-connector simulate --array-mode replace --unrevokable-licenses purchasing-user`,
      )
      .action(async (opts: SimulateOptions) => {
        const unrevokable =
          opts.unrevokableLicenses
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean) ?? [];
        const unknown = unrevokable.filter((f) => !ALL_LICENSE_FLAGS.includes(f));
        if (unknown.length) {
          throw new ConfigError(
            `--unrevokable-licenses: unknown license flag(s) ${unknown.join(', ')}.`,
            `Known flags: ${ALL_LICENSE_FLAGS.join(', ')}.`,
          );
        }
        const started = performance.now();
        const sim = await startSimulator({
          host: opts.host,
          port: opts.port,
          tenant: {
            seed: opts.seed,
            users: opts.users,
            userGroups: opts.groups,
            roles: opts.roles,
            contentGroups: opts.contentGroups,
            accountGroups: opts.accountGroups,
            ids: opts.ids,
          },
          clientId: opts.clientId,
          clientSecret: opts.clientSecret,
          latency: opts.latency,
          drift: opts.drift,
          rateLimit:
            opts.rateLimit === false
              ? false
              : { perSecond: opts.rateLimit === true ? 25 : opts.rateLimit, burst: opts.burst },
          arrayMode: opts.arrayMode,
          tokenTtlSeconds: opts.tokenTtl,
          unrevokableLicenses: unrevokable,
          membershipDelete: opts.membershipDelete ?? false,
          missingScopeStatus: opts.missingScopeStatus === '401' ? 401 : 403,
          defaultOrder: opts.defaultOrder,
        }).catch((err: unknown) => {
          throw listenError(err, opts.host, opts.port);
        });
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        // The credentials are the simulator's own demo values, printed on purpose so they can be used.
        process.stdout.write(
          [
            `Coupa simulator listening on ${sim.url} (${opts.users} users, ${typeof opts.ids === 'string' ? opts.ids : 'custom'} ids, seed ${opts.seed}, ready in ${seconds}s)`,
            `  client id:     ${sim.clientId}`,
            `  client secret: ${sim.clientSecret}`,
            `  admin:         ${sim.url}/__sim/counters  ${sim.url}/__sim/ground-truth`,
            '',
            ...syncInstructions(sim.url, sim.clientId, sim.clientSecret),
            '',
            'Press Ctrl-C to stop.',
            '',
          ].join('\n'),
        );
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await sim.close();
        process.stdout.write('Coupa simulator stopped.\n');
      });
  },
};
