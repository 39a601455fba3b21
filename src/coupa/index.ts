export { resolveBaseUrl, isLoopbackHost } from './base-url.js';
export { READ_SCOPES, ACCOUNTING_READ_SCOPE, WRITE_SCOPES, scopeFor } from './scopes.js';
export * from './models.js';
export * from './errors.js';
export { CoupaClient, type CoupaClientOptions, type PaginateCallOptions } from './client.js';
export type { FieldSpec } from './fields.js';
export type { ClientStats } from './transport.js';
export {
  DEFAULT_RATE_LIMIT,
  RATE_SAFETY_FACTOR,
  BURST_SAFETY_MARGIN,
  type RateLimit,
} from './rate-limiter.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry.js';
export { PAGE_SIZE } from './paginate.js';
export { CoupaResponseTooLargeError, DEFAULT_MAX_RESPONSE_BYTES } from './bounded-body.js';
export { ListGrowthError } from './growth-guard.js';
