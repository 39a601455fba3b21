/**
 * The waits of the task loop, as baton-sdk paces them, plus the floor baton lacks: a server that
 * answers next_poll 0 would otherwise have us poll in a busy loop.
 */

/** After the n-th consecutive failed poll: n² seconds, at most a minute (1, 4, 9, …, 49, 60, 60). */
export function errorBackoffMs(consecutiveErrors: number): number {
  const n = Math.max(1, consecutiveErrors);
  return Math.min(n * n, 60) * 1000;
}

/** Startup Hello retries: 1 s doubling to at most 5 minutes (baton-sdk HEAD's Bootstrap). */
export function helloBackoffMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt), 300_000);
}

/** The shortest wait between two polls that found nothing, whatever next_poll says. */
export const POLL_FLOOR_MS = 1000;
/** baton-sdk clamps next_poll to 5 minutes. */
export const POLL_CEILING_MS = 300_000;
/** After a poll that returned a task: just enough to yield, so a busy queue drains quickly. */
export const POLL_AFTER_TASK_MS = 50;

export function nextPollMs(serverMs: number | undefined, gotTask: boolean, floorMs = POLL_FLOOR_MS): number {
  if (gotTask) return POLL_AFTER_TASK_MS;
  const ms = serverMs === undefined || !Number.isFinite(serverMs) ? 0 : serverMs;
  return Math.min(Math.max(ms, floorMs), POLL_CEILING_MS);
}

/** Heartbeat interval: the server's next_heartbeat within [1 s, 5 min]; 30 s when it sends none. */
export function heartbeatMs(serverMs: number | undefined): number {
  if (serverMs === undefined || !Number.isFinite(serverMs) || serverMs <= 0) return 30_000;
  return Math.min(Math.max(serverMs, 1000), 300_000);
}

/** Resolves after `ms`, or at once (without throwing) when the signal aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
