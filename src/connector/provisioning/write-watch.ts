import { sleep } from '../../util/sleep.js';
import { lostAnswers, type ProvisioningContext } from './context.js';
import { VerificationError } from './errors.js';

/**
 * Late writes. When a write's answer is lost (timeout, reset, a gateway's 502/504) the client
 * retries it, the retry succeeds, and the operation moves on — but Coupa may still apply the
 * abandoned attempt afterwards. On a tenant that replaces arrays that late PUT of a whole list
 * undoes whatever changed the list since (a later revoke comes back, a later grant is dropped);
 * on a merging tenant a late clear empties the list; a late `active: true` re-enables a user who
 * was just disabled. Coupa has no conditional write that could refuse it, so the defence is time:
 * an operation that lost an answer keeps the user locked until the settle window has passed since
 * that attempt was sent (later operations on the user wait for the lock, so they cannot be undone
 * by it), then reads the user fresh and checks the state is what was asked.
 *
 * The promise holds for writes Coupa applies within the window of their sending; one applied later
 * cannot be seen by anyone, which is why the window is an option (--settle-window).
 */
export class WriteWatch {
  /** performance.now() at which the latest lost attempt not yet waited out was sent. */
  private lostSentAt: number | undefined;
  /** Lost attempts sent up to here are waited out already. */
  private settledUpTo = -Infinity;

  constructor(private readonly ctx: ProvisioningContext) {}

  /** Whether a write of this operation lost an answer that has not been waited out. */
  get pending(): boolean {
    return this.lostSentAt !== undefined;
  }

  /** Runs one write (the client's retries included), noting whether an attempt of it lost its answer. */
  async track<T>(write: () => Promise<T>): Promise<T> {
    const sentBefore = unansweredWriteSentAt(this.ctx);
    const lostBefore = lostAnswers(this.ctx);
    let threw = false;
    try {
      return await write();
    } catch (err) {
      threw = true;
      throw err;
    } finally {
      const sentAfter = unansweredWriteSentAt(this.ctx);
      if (sentAfter !== undefined) {
        if (sentAfter !== null && sentAfter !== sentBefore) this.note(sentAfter);
      } else if (lostBefore !== undefined ? (lostAnswers(this.ctx) ?? 0) > lostBefore : threw) {
        // A client that cannot say when the attempt went out: it went out by now at the latest.
        this.note(performance.now());
      }
    }
  }

  /** Waits until no lost attempt noted so far can still land (per the settle window). */
  async settle(about: Record<string, unknown>): Promise<void> {
    const sentAt = this.lostSentAt;
    if (sentAt === undefined) return;
    this.lostSentAt = undefined;
    this.settledUpTo = sentAt;
    const waitMs = Math.ceil(sentAt + this.ctx.retry.settleMs - performance.now());
    this.ctx.logger.warn(
      { ...about, waitMs: Math.max(0, waitMs), settleWindowMs: this.ctx.retry.settleMs },
      'a write lost its answer and may still be applied; holding the user until it cannot, then checking',
    );
    if (waitMs > 0) await sleep(waitMs);
  }

  private note(sentAt: number): void {
    if (sentAt <= this.settledUpTo) return;
    this.lostSentAt = Math.max(this.lostSentAt ?? -Infinity, sentAt);
  }
}

/** Undefined when the client does not report it (then lostAnswers is the fallback). */
function unansweredWriteSentAt(ctx: ProvisioningContext): number | null | undefined {
  return ctx.api.stats?.().unansweredWriteSentAt;
}

/** One change of one user's state (a list or a flag), as writeSettled drives it. */
export interface SettledChange<S> {
  /**
   * Writes (through the watch) to bring the state to what was asked, from `current` as read after a
   * settle (undefined the first time), and returns the state read back; throws if it is not as asked.
   */
  write(current: S | undefined): Promise<S>;
  read(): Promise<S>;
  asAsked(state: S): boolean;
  /** Before the first wait: record what must survive a kill during it (the journal entry). */
  beforeWait?(): void;
  /** The error when the state is still not as asked: after a failed write, or after the last round. */
  unconfirmed(state: S, cause: unknown): Error;
}

/**
 * Runs a change so that no write of it can land after it returns. Without a lost answer that is
 * just `write`. With one: wait it out, read fresh; as asked → done (even if the write itself had
 * failed: its abandoned attempt landed); not as asked → write again from what is there (something
 * else changed it, or a late write undid ours), at most `rounds` times, each wait-and-check again.
 */
export async function writeSettled<S>(
  ctx: ProvisioningContext,
  watch: WriteWatch,
  userId: number,
  change: SettledChange<S>,
): Promise<S> {
  let state: S | undefined;
  let failure: { error: unknown } | undefined;
  const attempt = async (current: S | undefined) => {
    try {
      state = await change.write(current);
      failure = undefined;
    } catch (error) {
      failure = { error };
    }
  };
  await attempt(undefined);
  for (let round = 1; watch.pending; round++) {
    change.beforeWait?.();
    await watch.settle({ userId });
    const current = await change.read();
    if (change.asAsked(current)) return current;
    if (failure || round > ctx.retry.rounds) throw change.unconfirmed(current, failure?.error);
    ctx.logger.warn({ userId, round }, 'after the settle window the user is not as asked; writing again');
    await attempt(current);
  }
  if (failure) throw failure.error;
  return state as S;
}

/**
 * A flag on the user (a license, `active`): one PUT of one key, checked against a fresh read, and
 * settled like a list. No journal: the PUT is absolute, so running the command again finishes it.
 */
export function writeFlagSettled(
  ctx: ProvisioningContext,
  userId: number,
  flag: {
    /** What the flag is, for messages: `the expense-user license`, `active`. */
    what: string;
    want: boolean;
    put(): Promise<unknown>;
    read(): Promise<boolean>;
    /** The error when a write answered 200 but the flag is not as asked. */
    notApplied(): Error;
  },
): Promise<boolean> {
  const watch = new WriteWatch(ctx);
  return writeSettled(ctx, watch, userId, {
    write: async () => {
      await watch.track(() => flag.put());
      // Checked against a fresh read, not the PUT's echo (see putList).
      const after = await flag.read();
      if (after !== flag.want) throw flag.notApplied();
      return after;
    },
    read: () => flag.read(),
    asAsked: (value) => value === flag.want,
    unconfirmed: (value, cause) =>
      cause instanceof Error
        ? cause
        : new VerificationError(
            `A write whose answer was lost may have landed late: after ${ctx.retry.rounds} more writes, ` +
              `${flag.what} of user ${userId} at ${ctx.baseUrl} is still ${value}.`,
            'Something else keeps changing it; check the user in Coupa and run the command again.',
          ),
  });
}
