import { formatError } from '../../errors.js';
import type { ProvisioningContext } from './context.js';
import { NeedsRecoveryError } from './errors.js';
import type { ProvisioningResult } from './result.js';

/**
 * Runs one operation and appends its audit line, whatever the outcome. Dry runs are not
 * recorded: they change nothing, and the audit log is the record of changes.
 */
export async function audited(
  ctx: ProvisioningContext,
  what: { operation: string; userId: number | null; entitlement?: string },
  fn: () => Promise<ProvisioningResult>,
): Promise<ProvisioningResult> {
  let result: ProvisioningResult;
  const started = Date.now();
  try {
    result = await fn();
  } catch (err) {
    ctx.logger[ctx.failureLogLevel ?? 'error'](
      {
        caller: 'provisioning/audit',
        operation: what.operation,
        userId: what.userId,
        entitlementId: what.entitlement,
        outcome: err instanceof NeedsRecoveryError ? 'needs-recovery' : 'error',
        dryRun: ctx.dryRun,
        durationMs: Date.now() - started,
        err: formatError(err),
      },
      'provisioning change failed',
    );
    if (!ctx.dryRun) {
      ctx.audit.record({
        ...what,
        baseUrl: ctx.baseUrl,
        result: err instanceof NeedsRecoveryError ? 'needs-recovery' : 'error',
        after: err instanceof NeedsRecoveryError ? { intended: err.intended } : undefined,
        message: formatError(err),
      });
    }
    throw err;
  }
  if (result.outcome !== 'planned') {
    ctx.audit.record({
      ...what,
      userId: result.userId,
      baseUrl: ctx.baseUrl,
      before: result.before,
      after: result.after,
      result: result.outcome.startsWith('already-') ? 'already' : 'ok',
      message: result.message,
    });
  }
  // One structured record per change, as baton connectors log at the end of each grant/revoke.
  ctx.logger.info(
    {
      caller: 'provisioning/audit',
      operation: what.operation,
      userId: result.userId,
      entitlementId: what.entitlement ?? result.entitlementId,
      outcome: result.outcome,
      dryRun: ctx.dryRun,
      durationMs: Date.now() - started,
      baseUrl: ctx.baseUrl,
    },
    'provisioning change finished',
  );
  return result;
}
