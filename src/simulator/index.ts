/**
 * A fake Coupa Core REST API for tests, benchmarks and demos: OAuth2 client credentials, scopes,
 * users / roles / groups with Coupa's query language, XML-by-default, rate limiting and fault
 * injection, plus counters and a ground-truth export under /__sim/. See docs/simulator.md.
 */
export { startSimulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from './server.js';
export { generateTenant, DEFAULT_TENANT_SPEC } from './generator.js';
export { Tenant } from './tenant.js';
export type {
  UserRecord,
  RoleRecord,
  UserGroupRecord,
  ContentGroupRecord,
  AccountGroupRecord,
  MembershipRecord,
  UserWriteOptions,
} from './tenant.js';
export { ALL_LICENSE_FLAGS } from './license-flags.js';
export { layoutIds, parseIdLayout, resolveLayout, DENSE_LAYOUT, SPARSE_LAYOUT } from './id-layout.js';
export type { IdLayout, IdLayoutSpec, GapDistribution } from './id-layout.js';
export { Latency, parseLatency } from './latency.js';
export type { LatencyModel, LatencySpec } from './latency.js';
export { parseDrift } from './drift.js';
export type { DriftSpec, DriftLog } from './drift.js';
export { ALL_SCOPES } from './scopes.js';
export { SimulatorHttpError } from './errors.js';
export type {
  TenantSpec,
  SimulatorOptions,
  Simulator,
  GroundTruth,
  FaultRule,
  FaultController,
  FaultRequestInfo,
  RequestCounters,
} from './types.js';
export { startFakeC1 } from './c1/index.js';
export type { FakeC1, FakeC1Options } from './c1/index.js';
