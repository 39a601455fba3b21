export {
  createServiceMetrics,
  METRIC_NAMES,
  SYNC_DURATION_BUCKETS,
  type ServiceMetrics,
  type TaskOutcome,
} from './metrics.js';
export {
  startHealthServer,
  HealthServerError,
  DEFAULT_HEALTH_CHECK_BIND_ADDRESS,
  DEFAULT_HEALTH_CHECK_PORT,
  HEALTH_CHECK_TIMEOUT_MS,
  type HealthCheck,
  type HealthServer,
  type HealthServerOptions,
} from './health-server.js';
