import { CoupaConnectorError, ExitCode } from '../../errors.js';
import { formatDuration } from '../../util/duration.js';
import type { LockHolder } from './lock-file.js';
import { entitlementIdPatterns } from '../types/index.js';

const orList = (items: string[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : (items[0] ?? '');

/**
 * Provisioning failures. Each message names the user, the entitlement and the URL involved, and
 * the hint says what to do next; none may carry a secret.
 */

/**
 * The user id does not exist in Coupa (404), or is not a Coupa user id at all. Either way the
 * input is wrong, as with an unknown entitlement id: a usage error (exit 2).
 */
export class UnknownUserError extends CoupaConnectorError {
  readonly userId: string;

  /** `malformed`: not a usable id at all, rather than an id Coupa does not know (same exit code). */
  constructor(userId: string, detail: string, _opts: { malformed?: boolean } = {}) {
    super(`Coupa has no user ${JSON.stringify(userId)} (${detail}).`, {
      exitCode: ExitCode.usage,
      hint: 'Pass the numeric Coupa user id, as shown in the c1z (resource id of a `user` resource).',
    });
    this.userId = userId;
  }
}

/** The entitlement id cannot be parsed, or names a role/group/license Coupa does not know. */
export class UnknownEntitlementError extends CoupaConnectorError {
  readonly entitlementId: string;

  constructor(entitlementId: string, detail: string, hint?: string) {
    super(`Unknown entitlement ${JSON.stringify(entitlementId)}: ${detail}.`, {
      exitCode: ExitCode.usage,
      hint:
        hint ??
        `Entitlement ids look like ${orList(entitlementIdPatterns())}; list them with \`coupa-connector entitlements -f sync.c1z\`.`,
    });
    this.entitlementId = entitlementId;
  }
}

/** Coupa answered 200 to `<flag>: false` but the user still holds the license (instance rules). */
export class LicenseRevocationRefusedError extends CoupaConnectorError {
  readonly userId: string;
  readonly flag: string;

  constructor(userId: string, flag: string, url: string) {
    super(
      `Coupa accepted the request to remove the ${flag} license from user ${userId} (${url}) but the user still holds it.`,
      {
        hint:
          'This Coupa instance does not let this license be revoked through the API (common for purchasing-user and ' +
          'contracts-user); remove it in Coupa’s admin UI or ask Coupa support.',
      },
    );
    this.userId = userId;
    this.flag = flag;
  }
}

/** The API accepted a write but the state it returned is not what was asked for. */
export class VerificationError extends CoupaConnectorError {
  constructor(message: string, hint?: string) {
    super(message, {
      hint:
        hint ?? 'Nothing was retried automatically; read the user in Coupa and rerun the command if needed.',
    });
  }
}

/** Coupa rejected a change (400) for a reason other than an unknown entitlement, e.g. a validation rule. */
export class ChangeRejectedError extends CoupaConnectorError {
  readonly coupaMessage?: string;

  constructor(message: string, coupaMessage?: string, hint?: string) {
    super(coupaMessage ? `${message}: ${coupaMessage}` : message, { exitCode: ExitCode.failure, hint });
    this.coupaMessage = coupaMessage;
  }
}

/**
 * A list change could not be confirmed: a removal in a merging tenant cleared the list but could
 * not put the rest back, or a write whose answer was lost may have landed late and the list is
 * not as asked. The journal holds the intended list; `coupa-connector recover` finishes the job.
 * Exit code 5.
 */
export class NeedsRecoveryError extends CoupaConnectorError {
  readonly userId: string;
  readonly field: string;
  readonly intended: readonly { id: number; name?: string | null }[];
  readonly journalPath: string;

  constructor(opts: {
    userId: string;
    field: string;
    intended: readonly { id: number; name?: string | null }[];
    journalPath: string;
    operation: string;
    /** What is known of the user's state; default: may now hold less than intended. */
    state?: string;
    cause?: unknown;
  }) {
    const list = opts.intended.length
      ? opts.intended.map((r) => (r.name ? `${r.id} (${r.name})` : String(r.id))).join(', ')
      : '(empty)';
    const causeText = opts.cause instanceof Error ? ` Last error: ${opts.cause.message}` : '';
    const state = opts.state ?? `user ${opts.userId} may now hold less than intended in \`${opts.field}\``;
    super(`${opts.operation} did not finish: ${state}. The list to restore is: ${list}.${causeText}`, {
      exitCode: ExitCode.needsRecovery,
      hint: `Run \`coupa-connector recover -p --journal ${opts.journalPath}\` with the same connection flags to put it back.`,
      cause: opts.cause,
    });
    this.userId = opts.userId;
    this.field = opts.field;
    this.intended = opts.intended;
    this.journalPath = opts.journalPath;
  }
}

/** SIGINT/SIGTERM arrived while waiting for another process's lock: nothing was changed. */
export class LockWaitInterruptedError extends CoupaConnectorError {
  constructor(userId: number, reason: string) {
    super(
      `Stopped by ${reason} while waiting for another process's lock on user ${userId}. Nothing was changed in Coupa.`,
      { exitCode: ExitCode.interrupted },
    );
  }
}

/** Waiting for another process's lock on the user took longer than allowed; nothing was changed. */
export class UserLockTimeoutError extends CoupaConnectorError {
  readonly userId: number;
  readonly lockPath: string;
  readonly holder?: LockHolder;

  constructor(opts: {
    userId: number;
    baseUrl: string;
    lockPath: string;
    waitedMs: number;
    holder?: LockHolder;
  }) {
    const who = opts.holder
      ? `pid ${opts.holder.pid} on host ${opts.holder.hostname}, holding it since ${opts.holder.startedAt}`
      : 'a process whose lock file is not readable';
    super(
      `Another coupa-connector process is changing user ${opts.userId} of ${opts.baseUrl}: gave up after ` +
        `${formatDuration(opts.waitedMs)} waiting for the lock file ${opts.lockPath} (held by ${who}). Nothing was changed in Coupa.`,
      {
        exitCode: ExitCode.failure,
        hint:
          'Wait for that process to finish and run the command again (or pass a longer --lock-timeout). ' +
          `If that process no longer exists, delete ${opts.lockPath} and run again.`,
      },
    );
    this.userId = opts.userId;
    this.lockPath = opts.lockPath;
    this.holder = opts.holder;
  }
}

/** A named lock file stayed held by a live process for longer than allowed. */
export class LockFileTimeoutError extends CoupaConnectorError {
  constructor(name: string, path: string, waitedMs: number, holder?: LockHolder) {
    const who = holder
      ? `pid ${holder.pid} on host ${holder.hostname}`
      : 'a process whose lock file is not readable';
    super(
      `Gave up after ${formatDuration(waitedMs)} waiting for the ${name} lock ${path} (held by ${who}).`,
      {
        exitCode: ExitCode.failure,
        hint: `If that process no longer exists, delete ${path} and run again.`,
      },
    );
  }
}
