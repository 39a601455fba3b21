import type { ArrayMembership } from '../types/index.js';
import { sleep } from '../../util/sleep.js';
import { userPath, type PlannedCall, type ProvisioningContext } from './context.js';
import {
  describeList,
  holdsAll,
  holdsAny,
  ids,
  listBody,
  putList,
  readList,
  type Ref,
} from './association-list.js';
import type { JournalIntent } from './journal.js';
import { NeedsRecoveryError, VerificationError } from './errors.js';
import { WriteWatch, writeSettled } from './write-watch.js';

/** One change of one user's association array. */
export interface ConvergeJob {
  operation: string;
  userId: number;
  membership: ArrayMembership;
  entitlementId: string;
  desired: readonly Ref[];
  /** Items that must be gone at the end (a subset of the user's current list). */
  removed: readonly Ref[];
}

/**
 * Sets one association array of one user to `desired` without `removed`, never leaving the user
 * with less than `desired`, whatever the tenant's array semantics, and never returning while a
 * write of it whose answer was lost could still land (see write-watch.ts):
 *
 * 1. Nothing to remove (a grant, a restore): one PUT of the complete list, right in both modes.
 * 2. A removal, unless the tenant is known to merge: PUT the complete desired list. A replacing
 *    tenant is done by that; a merging one answers with the removed items still present, which is
 *    how the mode is detected. Either way the write cannot drop anything that should stay.
 * 3. Merging tenant: journal the intended list (fsync), PUT [] to clear, PUT the desired list,
 *    and check the answer; repeat the pair a few times on failure.
 * 4. If any write lost its answer: journal the intended list (if not yet), hold the user until the
 *    settle window has passed since that write was sent, read the list fresh; if it is not as
 *    asked, converge again from there (bounded).
 *
 * The journal entry is closed only once the API has confirmed the list. If it never does,
 * NeedsRecoveryError (exit 5) names the list and `recover` replays the entry.
 */
export async function applyList(
  ctx: ProvisioningContext,
  job: ConvergeJob,
  opts: { entry?: JournalIntent; result?: string } = {},
): Promise<Ref[]> {
  const watch = new WriteWatch(ctx);
  const intent = new Intent(ctx, job, opts.entry);
  try {
    const after = await writeSettled(ctx, watch, job.userId, {
      write: (current) => writeList(ctx, current ? rest(job, current) : job, watch, intent),
      read: () => readList(ctx, job.userId, job.membership),
      asAsked: (list) => holdsAll(list, job.desired) && !holdsAny(list, job.removed),
      // Killed while waiting, the change is still on record for `recover` to check and finish.
      beforeWait: () => intent.open(),
      unconfirmed: (list, cause) =>
        needsRecovery(
          ctx,
          job,
          cause,
          `a write's answer was lost, and after the settle window \`${job.membership.userField}\` of user ${job.userId} is not as asked (the API lists ${describeList(list)})`,
        ),
    });
    intent.finish(opts.result ?? 'done');
    return after;
  } catch (err) {
    // An entry left open means the user may hold less than asked until `recover` finishes it.
    if (intent.isOpen && !(err instanceof NeedsRecoveryError)) throw needsRecovery(ctx, job, err);
    throw err;
  }
}

/** The journal entry of one list change, begun only once the change can leave the user short. */
class Intent {
  private finished = false;

  constructor(
    private readonly ctx: ProvisioningContext,
    private readonly job: ConvergeJob,
    private entry?: JournalIntent,
  ) {}

  get isOpen(): boolean {
    return this.entry !== undefined && !this.finished;
  }

  open(): JournalIntent {
    this.entry ??= this.ctx.journal.begin({
      baseUrl: this.ctx.baseUrl,
      userId: this.job.userId,
      operation: this.job.operation,
      entitlementId: this.job.entitlementId,
      field: this.job.membership.userField,
      intended: this.job.desired.map((r) => ({ id: r.id, name: r.name ?? null })),
      removed: this.job.removed.map((r) => ({ id: r.id, name: r.name ?? null })),
    });
    return this.entry;
  }

  finish(result: string): void {
    if (!this.entry || this.finished) return;
    this.ctx.journal.finish(this.entry.entryId, result);
    this.finished = true;
  }
}

/**
 * What is left to do once a fresh read shows `current`: still the whole desired list, plus
 * whatever else the user holds now (granted meanwhile: kept), without the removed items (those of
 * them still held are what is left to remove).
 */
export function rest(job: ConvergeJob, current: readonly Ref[]): ConvergeJob {
  const removedIds = ids(job.removed);
  const desired = [...job.desired];
  for (const r of current) if (!removedIds.has(r.id) && !desired.some((d) => d.id === r.id)) desired.push(r);
  return { ...job, desired, removed: current.filter((r) => removedIds.has(r.id)) };
}

async function writeList(
  ctx: ProvisioningContext,
  job: ConvergeJob,
  watch: WriteWatch,
  intent: Intent,
): Promise<Ref[]> {
  const field = job.membership.userField;
  const path = `${ctx.baseUrl}${userPath(job.userId)}`;
  if (job.removed.length === 0) {
    const after = await watch.track(() => putList(ctx, job.userId, job.membership, job.desired));
    if (!holdsAll(after, job.desired)) {
      throw new VerificationError(
        `PUT ${path} answered 200, but \`${field}\` is ${describeList(after)}, ` +
          `without ${describeList(job.desired.filter((d) => !after.some((a) => a.id === d.id)))}.`,
      );
    }
    return after;
  }

  if (job.desired.length === 0) {
    // Clearing is one write in both modes and leaves nothing that could be lost.
    const after = await watch.track(() => putList(ctx, job.userId, job.membership, []));
    if (after.length > 0) {
      throw new VerificationError(
        `Cleared \`${field}\` of user ${job.userId} (${ctx.baseUrl}) but the API still lists ${describeList(after)}.`,
      );
    }
    return after;
  }

  if (ctx.modes.get(ctx.baseUrl) !== 'merge') {
    const after = await watch.track(() => putList(ctx, job.userId, job.membership, job.desired));
    const removedGone = !holdsAny(after, job.removed);
    if (removedGone && holdsAll(after, job.desired)) {
      ctx.modes.set(ctx.baseUrl, 'replace');
      return after;
    }
    if (!removedGone) {
      ctx.logger.info(
        { baseUrl: ctx.baseUrl },
        'tenant merges association arrays; removing by clear-then-set',
      );
      ctx.modes.set(ctx.baseUrl, 'merge');
    }
  }
  intent.open();
  return mergeRemoval(ctx, job, watch);
}

async function mergeRemoval(ctx: ProvisioningContext, job: ConvergeJob, watch: WriteWatch): Promise<Ref[]> {
  const field = job.membership.userField;
  let lastError: unknown;
  for (let round = 1; round <= ctx.retry.rounds; round++) {
    if (round > 1) await sleep(ctx.retry.delayMs);
    try {
      await watch.track(() => putList(ctx, job.userId, job.membership, []));
    } catch (err) {
      // The clear may have landed even though its answer was lost, so the list is put back regardless.
      lastError = err;
    }
    // A clear (or an earlier write) still in Coupa's hands could land after the put-back and
    // empty the list again: let it land first.
    await watch.settle({ userId: job.userId, field });
    for (let attempt = 1; attempt <= ctx.retry.setAttempts; attempt++) {
      if (attempt > 1) await sleep(ctx.retry.delayMs);
      let after: Ref[];
      try {
        after = await watch.track(() => putList(ctx, job.userId, job.membership, job.desired));
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
      return after;
    }
  }
  throw needsRecovery(ctx, job, lastError);
}

function needsRecovery(
  ctx: ProvisioningContext,
  job: ConvergeJob,
  cause: unknown,
  state?: string,
): NeedsRecoveryError {
  return new NeedsRecoveryError({
    userId: String(job.userId),
    field: job.membership.userField,
    intended: job.desired,
    journalPath: ctx.journal.path,
    operation: `${capitalise(job.operation)} of ${job.entitlementId} for user ${job.userId} at ${ctx.baseUrl}`,
    state,
    cause,
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
