import type { Command } from 'commander';
import { ConfigError, CoupaConnectorError, ExitCode } from '../errors.js';
import { createLogger, type Logger, type LogFormat, type LogLevel } from '../log.js';
import { redact } from '../secrets.js';
import { safeText } from '../util/safe-text.js';
import { resolveBaseUrl } from '../coupa/index.js';
import { clientFromOptions, DEFAULT_REQUEST_TIMEOUT_MS, type ConnectionOptions } from './connection.js';
import { option, parseDuration } from './options.js';
import {
  ArrayModeMemory,
  defaultSettleWindowMs,
  Provisioner,
  resolveEntitlement,
  resolveGrant,
  type ProvisioningResult,
  type RecoveryReport,
} from '../connector/provisioning/index.js';
import { dirname, join } from 'node:path';
import { ensureStateDir, stateRoot, tenantStatePaths } from '../connector/provisioning/state-dir.js';

/**
 * baton's one-shot provisioning flags (--grant-entitlement, --revoke-grant, --create-account-*,
 * --invoke-action) live on the root command next to the sync flags. The root command calls these
 * two hooks; the provisioning module owns what they do. The friendlier subcommands (grant, revoke,
 * create-account, enable-user, disable-user, recover) share the helpers below.
 */

/** Options every provisioning entry point has. */
export interface ProvisioningFlags extends ConnectionOptions {
  provisioning?: boolean;
  dryRun?: boolean;
  journal?: string;
  auditLog?: string;
  stateDir?: string;
  lockTimeout?: number;
  settleWindow?: number;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

/** -p and the safety flags, for the root command and every provisioning subcommand. */
export function addProvisioningOptions(cmd: Command, { withProvisioningFlag = true } = {}): Command {
  if (withProvisioningFlag) {
    cmd.addOption(
      option('-p, --provisioning', 'allow changes in Coupa (grant, revoke, create, enable/disable, recover)'),
    );
  }
  return cmd
    .addOption(option('--dry-run', 'print the writes a provisioning command would send, and send none'))
    .addOption(
      option(
        '--state-dir <path>',
        'root of the per-tenant folders holding the journal, audit log and lock files (default: $XDG_STATE_HOME/coupa-connector, else ~/.local/state/coupa-connector)',
      ),
    )
    .addOption(
      option(
        '--journal <path>',
        "journal of unfinished removals, read by `recover` (default: journal.jsonl in the tenant's state folder; lock files go next to it)",
      ),
    )
    .addOption(
      option(
        '--audit-log <path>',
        "JSON-lines log of every change (default: audit.jsonl in the tenant's state folder)",
      ),
    )
    .addOption(
      // No commander default: it would show (and pass) the raw number; the provisioner's default applies.
      option(
        '--lock-timeout <duration>',
        'how long to wait while another process changes the same user, e.g. 30s, 2m (default: 60s)',
      ).argParser(parseDuration('--lock-timeout', { min: 0, max: 24 * 3600_000 })),
    )
    .addOption(
      // No commander default either: it follows --request-timeout (see settleWindowMs).
      option(
        '--settle-window <duration>',
        'after a write whose answer was lost (timeout, reset), how long from its sending Coupa may still apply it: ' +
          'the user stays locked that long, then is read again to confirm (default: 2 × --request-timeout, at least 10s)',
      ).argParser(parseDuration('--settle-window', { min: 0, max: 3600_000 })),
    );
}

/** --settle-window, or the default that follows --request-timeout. */
export function settleWindowMs(opts: ProvisioningFlags): number {
  return opts.settleWindow ?? defaultSettleWindowMs(opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS);
}

export function addOneShotOptions(cmd: Command): void {
  addProvisioningOptions(cmd);
  cmd
    .addOption(option('--grant-entitlement <entitlement-id>', 'one-shot: grant this entitlement (needs -p)'))
    .addOption(option('--grant-principal <user-id>', 'one-shot: the Coupa user id to grant to'))
    .addOption(
      option('--grant-principal-type <type>', 'one-shot: the principal resource type (only "user" exists)'),
    )
    .addOption(
      option(
        '--revoke-grant <grant-id>',
        'one-shot: revoke this grant, <entitlement id>:user:<user id> (needs -p)',
      ),
    )
    .addOption(option('--create-account-login <login>', 'one-shot: create a user with this login (needs -p)'))
    .addOption(option('--create-account-email <email>', 'one-shot: email of the user to create'))
    .addOption(
      option(
        '--create-account-profile <json>',
        'one-shot: JSON with firstname, lastname, sso_identifier, employee_number, manager_login, licenses, authentication_method',
      ),
    )
    .addOption(
      option('--invoke-action <action>', 'one-shot: run an account action (needs -p)').choices([
        'enable_user',
        'disable_user',
      ]),
    )
    .addOption(
      option('--invoke-action-args <json>', 'one-shot: the action\'s arguments, e.g. {"user_id":"12"}'),
    );
}

interface OneShotFlags extends ProvisioningFlags {
  grantEntitlement?: string;
  grantPrincipal?: string;
  grantPrincipalType?: string;
  revokeGrant?: string;
  createAccountLogin?: string;
  createAccountEmail?: string;
  createAccountProfile?: string;
  invokeAction?: string;
  invokeActionArgs?: string;
}

/** Runs the one-shot operation the options ask for; false when they ask for none (then the root syncs). */
export async function runOneShot(raw: Record<string, unknown>): Promise<boolean> {
  const opts = raw as OneShotFlags;
  const requested = [
    opts.grantEntitlement !== undefined && '--grant-entitlement',
    opts.revokeGrant !== undefined && '--revoke-grant',
    (opts.createAccountLogin ?? opts.createAccountEmail ?? opts.createAccountProfile) !== undefined &&
      '--create-account-login',
    opts.invokeAction !== undefined && '--invoke-action',
  ].filter((f): f is string => Boolean(f));
  rejectStrayCompanions(opts);
  if (requested.length === 0) {
    if (opts.dryRun) {
      throw new ConfigError(
        '--dry-run applies to a provisioning action, and none was given: without one the root command syncs.',
        'Add the action (--grant-entitlement, --revoke-grant, --create-account-login or --invoke-action) ' +
          'or use a provisioning command (`grant`, `revoke`, …); a sync changes nothing in Coupa.',
      );
    }
    return false;
  }
  if (requested.length > 1) {
    throw new ConfigError(`Pass one provisioning action at a time, got ${requested.join(' and ')}.`);
  }
  const flag = requested[0]!;
  requireProvisioning(opts, flag);

  if (opts.grantEntitlement !== undefined) {
    if (opts.grantPrincipalType !== undefined && opts.grantPrincipalType !== 'user') {
      throw new ConfigError(
        `--grant-principal-type must be "user" (Coupa grants go to users), got ${JSON.stringify(opts.grantPrincipalType)}.`,
      );
    }
    if (!opts.grantPrincipal) {
      throw new ConfigError('--grant-entitlement needs --grant-principal <user id>.');
    }
    const entitlementId = opts.grantEntitlement;
    resolveEntitlement(entitlementId); // a malformed id is a usage error before any connection
    await withProvisioner(opts, async (p) => report(await p.grant(entitlementId, opts.grantPrincipal!)));
  } else if (opts.revokeGrant !== undefined) {
    const grantId = opts.revokeGrant;
    resolveGrant(grantId);
    await withProvisioner(opts, async (p) => report(await p.revokeGrant(grantId)));
  } else if (opts.invokeAction !== undefined) {
    const userId = actionUserId(opts.invokeActionArgs);
    const enable = opts.invokeAction === 'enable_user';
    if (!enable && opts.invokeAction !== 'disable_user') {
      throw new ConfigError(
        `Unknown --invoke-action ${JSON.stringify(opts.invokeAction)}; use enable_user or disable_user.`,
      );
    }
    await withProvisioner(opts, async (p) =>
      report(await (enable ? p.enableUser(userId) : p.disableUser(userId))),
    );
  } else {
    const input = {
      login: opts.createAccountLogin ?? '',
      email: opts.createAccountEmail ?? '',
      profile: opts.createAccountProfile,
    };
    await withProvisioner(opts, async (p) => report(await p.createAccount(input)));
  }
  return true;
}

/** One-shot flags that only complete an action, with the action flag they need. */
const COMPANIONS = [
  {
    key: 'grantPrincipal',
    flag: '--grant-principal',
    needs: 'grantEntitlement',
    action: '--grant-entitlement <entitlement id>',
  },
  {
    key: 'grantPrincipalType',
    flag: '--grant-principal-type',
    needs: 'grantEntitlement',
    action: '--grant-entitlement <entitlement id>',
  },
  {
    key: 'invokeActionArgs',
    flag: '--invoke-action-args',
    needs: 'invokeAction',
    action: '--invoke-action enable_user|disable_user',
  },
] as const;

/**
 * A flag that completes an action, given without that action, is a mistake (a forgotten or
 * mistyped --grant-entitlement): refused, as the reverse case is, instead of syncing or running
 * another action with it ignored.
 */
function rejectStrayCompanions(opts: OneShotFlags): void {
  for (const c of COMPANIONS) {
    if (opts[c.key] !== undefined && opts[c.needs] === undefined) {
      throw new ConfigError(
        `${c.flag} needs ${c.action}, which was not given.`,
        `Add ${c.action.split(' ')[0]}, or leave ${c.flag} out (without an action the root command syncs).`,
      );
    }
  }
}

function actionUserId(args: string | undefined): string {
  if (!args) throw new ConfigError('--invoke-action needs --invoke-action-args \'{"user_id":"<id>"}\'.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch (err) {
    throw new ConfigError(`--invoke-action-args is not valid JSON: ${(err as Error).message}.`);
  }
  const id = (parsed as { user_id?: unknown } | null)?.user_id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).trim() === '') {
    throw new ConfigError('--invoke-action-args must hold "user_id", e.g. \'{"user_id":"12"}\'.');
  }
  return String(id);
}

/** Everything that writes to Coupa is refused without -p, as in baton connectors. */
export function requireProvisioning(opts: ProvisioningFlags, what: string): void {
  if (!opts.provisioning) {
    throw new ConfigError(
      `${what} changes Coupa and is refused without -p/--provisioning.`,
      'Add -p (or set BATON_PROVISIONING=1) to allow changes; add --dry-run as well to see the planned calls first.',
    );
  }
}

/**
 * The journal and audit log of a tenant: the flags' paths, else the files in the tenant's folder
 * under --state-dir (created owner-only). Every entry point that changes Coupa, the service
 * included, takes them from here: same tenant, same files and locks, whatever the working directory.
 */
export function provisioningFiles(
  opts: Pick<ProvisioningFlags, 'journal' | 'auditLog' | 'stateDir'>,
  baseUrl: string,
): { journalPath: string; auditLogPath: string } {
  const state = tenantStatePaths(baseUrl, stateRoot(opts.stateDir));
  if (!opts.journal || !opts.auditLog) ensureStateDir(state.dir);
  return { journalPath: opts.journal ?? state.journal, auditLogPath: opts.auditLog ?? state.auditLog };
}

/**
 * Builds the client (with the write scopes) and the provisioner, runs `fn`, and turns the process
 * exit code into the one the outcome deserves. SIGINT/SIGTERM do not cut a change in half: the
 * current operation finishes (a removal is journaled anyway), then the process exits with 130.
 */
export async function withProvisioner(
  opts: ProvisioningFlags,
  fn: (p: Provisioner, logger: Logger) => Promise<void>,
): Promise<void> {
  const logger = createLogger({ level: opts.logLevel ?? 'info', format: opts.logFormat ?? 'console' });
  // Read + write scopes only: every membership, account groups included, is written on the user
  // (core.user.write). core.accounting.read is not asked for, so an OAuth client set up for
  // baton-coupa's provisioning works as is; see docs/provisioning.md.
  const api = clientFromOptions(opts, { provisioning: true, logger });
  const baseUrl = resolveBaseUrl({ domain: opts.coupaDomain, baseUrl: opts.baseUrl }).toString();
  const { journalPath, auditLogPath } = provisioningFiles(opts, baseUrl);
  const dryRun = opts.dryRun ?? false;
  const stopping = new AbortController();
  const provisioner = new Provisioner({
    api,
    baseUrl,
    logger,
    dryRun,
    journalPath,
    auditLogPath,
    // Remembered next to the journal so a later run skips the detection write on merging tenants.
    arrayModes: dryRun
      ? new ArrayModeMemory()
      : new ArrayModeMemory(join(dirname(journalPath), 'array-modes.json')),
    // How long a write Coupa is still working on after we gave up on it may take to land.
    retry: { settleMs: settleWindowMs(opts) },
    // Lock files go in `locks/` next to the journal (the provisioner's default), so every process
    // sharing a journal waits for the others on the same user. Dry runs take none.
    lockTimeoutMs: opts.lockTimeout,
    // A change in progress is finished, but one still waiting for another process's lock is not
    // started: stopping there changes nothing.
    signal: stopping.signal,
  });
  let interrupted: string | undefined;
  const onSignal = (signal: string) => {
    if (interrupted) process.exit(ExitCode.interrupted);
    interrupted = signal;
    stopping.abort(signal);
    process.stderr.write(
      `Received ${signal}: finishing the change in progress, then stopping (again to quit now).\n`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await fn(provisioner, logger);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted && !process.exitCode) process.exitCode = ExitCode.interrupted;
}

function print(line: string): void {
  process.stdout.write(safeText(redact(line)) + '\n');
}

/** Prints one result: the sentence, then for dry runs each planned write. */
export function report(result: ProvisioningResult): void {
  print(result.message);
  for (const call of result.plannedCalls ?? []) {
    print(
      `  ${call.method} ${call.path} ${JSON.stringify(call.body)}${call.note ? `   # ${call.note}` : ''}`,
    );
  }
  if (result.plannedCalls) print('Dry run: nothing was changed.');
}

/**
 * Prints the recovery report; exit code 5 while anything is left unfinished or unreadable (after
 * recovering every entry it could read).
 */
export function reportRecovery(r: RecoveryReport): void {
  if (r.entries.length === 0) print(`Nothing to recover in ${r.journalPath}.`);
  for (const e of r.entries) {
    print(`${e.outcome.padEnd(10)} user ${e.userId} ${e.entitlementId} (\`${e.field}\`): ${e.message}`);
  }
  if (r.otherTenants > 0) {
    print(
      `${r.otherTenants} unfinished entr${r.otherTenants === 1 ? 'y belongs' : 'ies belong'} to another base URL; run recover against it.`,
    );
  }
  const failed = r.entries.filter((e) => e.outcome === 'failed').length;
  const problems: string[] = [];
  const hints: string[] = [];
  if (failed > 0) {
    problems.push(`${failed} journal entr${failed === 1 ? 'y' : 'ies'} could not be recovered`);
    hints.push(
      'Fix the cause shown above and run recover again; the entries stay in the journal until they succeed.',
    );
  }
  if (r.badLines.length > 0) {
    // Each may be an unfinished removal (a torn write, a hand edit): recover cannot tell, so it
    // must not report that all is well.
    const n = r.badLines.length;
    problems.push(
      `${n === 1 ? 'line' : 'lines'} ${listed(r.badLines)} of ${r.journalPath} could not be read`,
    );
    hints.push(
      `Look at ${n === 1 ? 'that line' : 'those lines'}: repair an unfinished entry into valid JSON (recover then ` +
        'finishes it) or delete what is not one, and run recover again.',
    );
  }
  if (problems.length > 0) {
    const message = problems.join('; ');
    throw new CoupaConnectorError(`${message[0]!.toUpperCase()}${message.slice(1)}.`, {
      exitCode: ExitCode.needsRecovery,
      hint: hints.join(' '),
    });
  }
}

/** `1`, `1 and 3`, `1, 3 and 7`. */
function listed(numbers: number[]): string {
  return numbers.length === 1
    ? String(numbers[0])
    : `${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
}
