import type { ArrayMembership } from '../types/index.js';
import { sleep } from '../../util/sleep.js';
import { lostAnswers, userPath, type PlannedCall, type ProvisioningContext } from './context.js';
import { describeList, holdsAll, holdsAny, listBody, putList, type Ref } from './association-list.js';
import type { JournalIntent } from './journal.js';
import { NeedsRecoveryError, VerificationError } from './errors.js';

/**
 * Brings one association array of one user from `current` to `desired` where that removes items,
 * without ever leaving the user with less than `desired`, whatever the tenant's array semantics:
 *
 * 1. Unless the tenant is known to merge, PUT the complete desired list. A replacing tenant is done
 *    by that; a merging one answers with the removed items still present, which is how the mode is
 *    detected. Either way the write cannot drop anything that should stay.
 * 2. Merging tenant: journal the intended list (fsync), PUT [] to clear, PUT the desired list,
 *    and check the answer; repeat the pair a few times on failure. Only after the API confirms the
 *    list is the journal entry closed. If it never confirms, NeedsRecoveryError (exit 5) names the
 *    list and `recover` replays the entry.
 */
export interface ConvergeJob {
  operation: string;
  userId: number;
  membership: ArrayMembership;
  entitlementId: string;
  desired: readonly Ref[];
  /** Items that must be gone at the end (a subset of the user's current list). */
  removed: readonly Ref[];
}

export async function converge(
  ctx: ProvisioningContext,
  job: ConvergeJob,
  entry?: JournalIntent,
): Promise<Ref[]> {
  const field = job.membership.userField;
  const finish = (after: Ref[], result: string): Ref[] => {
    if (entry) ctx.journal.finish(entry.entryId, result);
    return after;
  };

  if (job.desired.length === 0) {
    // Clearing is one write in both modes and leaves nothing that could be lost.
    const after = await putList(ctx, job.userId, job.membership, []);
    if (after.length > 0) {
      throw new VerificationError(
        `Cleared \`${field}\` of user ${job.userId} (${ctx.baseUrl}) but the API still lists ${describeList(after)}.`,
      );
    }
    return finish(after, 'done');
  }

  if (ctx.modes.get(ctx.baseUrl) !== 'merge') {
    const after = await putList(ctx, job.userId, job.membership, job.desired);
    const removedGone = !holdsAny(after, job.removed);
    if (removedGone && holdsAll(after, job.desired)) {
      ctx.modes.set(ctx.baseUrl, 'replace');
      return finish(after, 'done');
    }
    if (!removedGone) {
      ctx.logger.info(
        { baseUrl: ctx.baseUrl },
        'tenant merges association arrays; removing by clear-then-set',
      );
      ctx.modes.set(ctx.baseUrl, 'merge');
    }
  }
  return mergeRemoval(ctx, job, entry ?? beginEntry(ctx, job));
}

function beginEntry(ctx: ProvisioningContext, job: ConvergeJob): JournalIntent {
  return ctx.journal.begin({
    baseUrl: ctx.baseUrl,
    userId: job.userId,
    operation: job.operation,
    entitlementId: job.entitlementId,
    field: job.membership.userField,
    intended: job.desired.map((r) => ({ id: r.id, name: r.name ?? null })),
    removed: job.removed.map((r) => ({ id: r.id, name: r.name ?? null })),
  });
}

async function mergeRemoval(
  ctx: ProvisioningContext,
  job: ConvergeJob,
  entry: JournalIntent,
): Promise<Ref[]> {
  const field = job.membership.userField;
  let lastError: unknown;
  for (let round = 1; round <= ctx.retry.rounds; round++) {
    if (round > 1) await sleep(ctx.retry.delayMs);
    const lostBefore = lostAnswers(ctx);
    let clearFailed = false;
    try {
      await putList(ctx, job.userId, job.membership, []);
    } catch (err) {
      // The clear may have landed even though its answer was lost, so the list is put back regardless.
      lastError = err;
      clearFailed = true;
    }
    // Without the client's counters, any failure of the clear counts as a possibly lost answer.
    const lost = lostBefore === undefined ? clearFailed : (lostAnswers(ctx) ?? 0) > lostBefore;
    if (lost) {
      // An attempt of the clear may still be in the server's hands; let it land before the put-back.
      ctx.logger.warn(
        { userId: job.userId, field, waitMs: ctx.retry.settleMs },
        'an answer to the clear was lost; waiting for any late write before putting the list back',
      );
      await sleep(ctx.retry.settleMs);
    }
    for (let attempt = 1; attempt <= ctx.retry.setAttempts; attempt++) {
      if (attempt > 1) await sleep(ctx.retry.delayMs);
      let after: Ref[];
      try {
        after = await putList(ctx, job.userId, job.membership, job.desired);
      } catch (err) {
        lastError = err;
        continue;
      }
      if (!holdsAll(after, job.desired)) {
        lastError = new VerificationError(
          `PUT ${userPath(job.userId)} set \`${field}\` to ${describeList(job.desired)} but the API answered ${describeList(after)}.`,
        );
        continue;
      }
      if (holdsAny(after, job.removed)) break; // the clear did not land: next round clears again
      ctx.journal.finish(entry.entryId, 'done');
      return after;
    }
  }
  throw new NeedsRecoveryError({
    userId: String(job.userId),
    field,
    intended: job.desired,
    journalPath: ctx.journal.path,
    operation: `${capitalise(job.operation)} of ${job.entitlementId} for user ${job.userId} at ${ctx.baseUrl}`,
    cause: lastError,
  });
}

/** What a dry run prints for a removal: the calls depend on the mode the API reveals. */
export function planRemoval(ctx: ProvisioningContext, job: ConvergeJob): PlannedCall[] {
  const path = userPath(job.userId);
  const set: PlannedCall = { method: 'PUT', path, body: listBody(job.membership, job.desired) };
  if (job.desired.length === 0) return [{ method: 'PUT', path, body: listBody(job.membership, []) }];
  const mergeCalls: PlannedCall[] = [
    {
      method: 'PUT',
      path,
      body: listBody(job.membership, []),
      note: 'clear (after journaling the intended list)',
    },
    { ...set, note: 'put back the rest' },
  ];
  const mode = ctx.modes.get(ctx.baseUrl);
  if (mode === 'merge') return mergeCalls;
  return [
    {
      ...set,
      note: mode === 'replace' ? 'the tenant replaces arrays' : 'done if the tenant replaces arrays',
    },
    ...mergeCalls.map((c) => ({ ...c, note: `only if the tenant merges arrays: ${c.note}` })),
  ];
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
