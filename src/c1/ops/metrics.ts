import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * How a task ended. `error`: FinishTask carried an error (retryable or not); `cancelled`: a
 * heartbeat said so; `not_permitted`: a write task without --provisioning (code 9);
 * `unsupported`: a task type this connector does not run (code 2); `finish_failed`: the FinishTask
 * call itself failed, so ConductorOne never learnt the result (whatever it was).
 */
export type TaskOutcome =
  'success' | 'error' | 'cancelled' | 'not_permitted' | 'unsupported' | 'finish_failed';

/** Every metric name this module exports; docs/service-mode.md lists them with their meaning. */
export const METRIC_NAMES = {
  tasks: 'coupa_connector_tasks_total',
  syncDuration: 'coupa_connector_sync_duration_seconds',
  coupaRequests: 'coupa_connector_coupa_requests_total',
  coupaThrottled: 'coupa_connector_coupa_throttled_total',
  lastSyncSuccess: 'coupa_connector_last_successful_sync_timestamp_seconds',
} as const;

/**
 * Full syncs take from seconds (a small tenant) to hours (100k users at Coupa's 25 requests/s),
 * so the buckets span 1 s to 4 h instead of prom-client's sub-second defaults.
 */
export const SYNC_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];

export interface ServiceMetrics {
  /** Its own registry, never prom-client's global one: two daemons in one process (tests) stay apart. */
  readonly registry: Registry;
  /** One finished task: `type` as ConductorOne names it (full_sync, grant, …). */
  recordTask(type: string, outcome: TaskOutcome): void;
  /** Wall time of one full sync, successful or not. */
  observeSync(seconds: number): void;
  /**
   * Requests sent to Coupa and how many of them Coupa answered 429. The daemon passes the change
   * since its last report (e.g. a task's CoupaClient.stats()), never running totals.
   */
  addCoupaRequests(requests: number, throttled: number): void;
  /** The end of the last sync that ConductorOne accepted. */
  markSyncSuccess(at: Date): void;
  /** The Prometheus text exposition of every metric, process defaults included. */
  text(): Promise<string>;
  readonly contentType: string;
}

function count(name: string, n: number): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${n}.`);
  return n;
}

export function createServiceMetrics(options: { defaultMetrics?: boolean } = {}): ServiceMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const tasks = new Counter({
    name: METRIC_NAMES.tasks,
    help: 'Tasks from ConductorOne finished, by task type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const syncDuration = new Histogram({
    name: METRIC_NAMES.syncDuration,
    help: 'Wall time of full sync tasks, from start to upload, in seconds.',
    buckets: SYNC_DURATION_BUCKETS,
    registers: [registry],
  });
  const coupaRequests = new Counter({
    name: METRIC_NAMES.coupaRequests,
    help: 'HTTP requests sent to the Coupa API, retries included.',
    registers: [registry],
  });
  const coupaThrottled = new Counter({
    name: METRIC_NAMES.coupaThrottled,
    help: 'Coupa API answers with status 429 (rate limited).',
    registers: [registry],
  });
  const lastSyncSuccess = new Gauge({
    name: METRIC_NAMES.lastSyncSuccess,
    help: 'Unix time of the end of the last successful full sync; 0 until one succeeds.',
    registers: [registry],
  });
  // Exported from the start so that an alert on "no sync for 24 h" fires on a daemon that never
  // synced, and so that rate() sees the series before its first increment.
  lastSyncSuccess.set(0);
  coupaRequests.inc(0);
  coupaThrottled.inc(0);

  return {
    registry,
    contentType: registry.contentType,
    recordTask(type, outcome) {
      tasks.inc({ type, outcome });
    },
    observeSync(seconds) {
      syncDuration.observe(count('sync duration', seconds));
    },
    addCoupaRequests(requests, throttled) {
      coupaRequests.inc(count('requests', requests));
      coupaThrottled.inc(count('throttled', throttled));
    },
    markSyncSuccess(at) {
      lastSyncSuccess.set(at.getTime() / 1000);
    },
    text: () => registry.metrics(),
  };
}
