import { formatError } from '../../errors.js';
import { membershipOfField } from '../types/index.js';
import { withUserLock, type ProvisioningContext } from './context.js';
import { describeList, holdsAll, readList, type Ref } from './association-list.js';
import { applyList, rest } from './converge.js';
import type { JournalIntent, JournalRef } from './journal.js';

export interface RecoveryEntryReport {
  entryId: string;
  userId: number;
  entitlementId: string;
  field: string;
  intended: JournalRef[];
  /** `consistent`: the user already held exactly the intended list; `restored`: writes made it so. */
  outcome: 'consistent' | 'restored' | 'failed' | 'planned';
  after?: Ref[];
  message: string;
}

export interface RecoveryReport {
  journalPath: string;
  entries: RecoveryEntryReport[];
  /** Unfinished entries that belong to another tenant and were left alone. */
  otherTenants: number;
  badLines: number[];
}

/**
 * Replays every unfinished journal entry of this tenant: reads the user fresh and brings the list
 * to the intended one, with the same never-less-than-intended procedure as a revoke. What the
 * user gained since (grants made after the failure) is kept; what the entry meant to remove, and
 * what later journaled removals on the same list removed, stays removed.
 */
export async function recover(ctx: ProvisioningContext): Promise<RecoveryReport> {
  const scan = ctx.journal.scan();
  const mine = scan.unfinished.filter((e) => e.baseUrl === ctx.baseUrl);
  const report: RecoveryReport = {
    journalPath: ctx.journal.path,
    entries: [],
    otherTenants: scan.unfinished.length - mine.length,
    badLines: scan.badLines,
  };
  for (const entry of mine) {
    report.entries.push(await recoverEntry(ctx, entry));
  }
  return report;
}

/** Items that journaled removals issued after `entry` took off the same list of the same user. */
function removedLater(all: readonly JournalIntent[], entry: JournalIntent): Set<number> {
  const later = all.slice(all.findIndex((e) => e.entryId === entry.entryId) + 1);
  const out = new Set<number>();
  for (const e of later) {
    if (e.baseUrl === entry.baseUrl && e.userId === entry.userId && e.field === entry.field) {
      for (const r of e.removed) out.add(r.id);
    }
  }
  return out;
}

export async function recoverEntry(
  ctx: ProvisioningContext,
  entry: JournalIntent,
): Promise<RecoveryEntryReport> {
  const base = {
    entryId: entry.entryId,
    userId: entry.userId,
    entitlementId: entry.entitlementId,
    field: entry.field,
    intended: entry.intended,
  };
  const membership = membershipOfField(entry.field);
  if (!membership)
    return { ...base, outcome: 'failed', message: `Unknown field \`${entry.field}\` in the journal entry.` };
  const locked = withUserLock(ctx, entry.userId, async (): Promise<RecoveryEntryReport> => {
    // The journal is read again under the lock: while we waited, another process may have
    // finished this entry, or journaled a later removal on the same list that must stay removed.
    const now = ctx.journal.scan();
    if (!now.unfinished.some((e) => e.entryId === entry.entryId)) {
      return {
        ...base,
        outcome: 'consistent',
        message: `Another process finished this entry meanwhile (done in ${ctx.journal.path}); nothing to do.`,
      };
    }
    const alsoRemoved = removedLater(now.all, entry);
    try {
      const current = await readList(ctx, entry.userId, membership);
      const removedIds = new Set([...entry.removed.map((r) => r.id), ...alsoRemoved]);
      const job = rest(
        {
          operation: 'recover',
          userId: entry.userId,
          membership,
          entitlementId: entry.entitlementId,
          desired: entry.intended.filter((r) => !removedIds.has(r.id)),
          removed: [...removedIds].map((id) => ({ id })),
        },
        current,
      );
      const { desired } = job;
      if (holdsAll(current, desired) && job.removed.length === 0) {
        if (!ctx.dryRun) ctx.journal.finish(entry.entryId, 'consistent');
        return {
          ...base,
          outcome: 'consistent',
          after: current,
          message: `User ${entry.userId} already holds ${describeList(current)}.`,
        };
      }
      if (ctx.dryRun) {
        return {
          ...base,
          outcome: 'planned',
          message: `Would set \`${entry.field}\` of user ${entry.userId} to ${describeList(desired)}.`,
        };
      }
      // Only additions are one PUT of the complete list; a removal runs the revoke's procedure.
      // Either way the entry is closed only once the API confirms the list.
      const after = await applyList(ctx, job, { entry, result: 'restored' });
      return {
        ...base,
        outcome: 'restored',
        after,
        message: `User ${entry.userId} now holds ${describeList(after)}.`,
      };
    } catch (err) {
      return { ...base, outcome: 'failed', message: formatError(err) };
    }
  });
  // A lock that stays held (UserLockTimeoutError) fails this entry only; the others still run.
  return locked.catch((err: unknown) => ({ ...base, outcome: 'failed' as const, message: formatError(err) }));
}
