import type { Tenant } from './tenant.js';
import type { IdLayoutSpec } from './id-layout.js';
import type { LatencySpec } from './latency.js';
import type { DriftLog, DriftSpec } from './drift.js';

/** Sizes and seed of a generated tenant; every count is the total number of records of that type. */
export interface TenantSpec {
  seed?: number;
  users?: number;
  userGroups?: number;
  /** Total roles including the four built-ins (Approver, Admin, User, Buyer); never fewer than 4. */
  roles?: number;
  contentGroups?: number;
  accountGroups?: number;
  /** Hyphenated output keys of the license flags the tenant has; default: all 19 of docs/coupa-api.md §4. */
  licenseFlags?: string[];
  /**
   * How ids are spread over each list (users, groups, custom roles, content and account groups):
   * `dense` 1..n (default), `sparse` (a realistic mix: see id-layout.ts), or an IdLayout.
   */
  ids?: IdLayoutSpec;
}

export interface SimulatorOptions {
  host?: string;
  port?: number;
  tenant?: TenantSpec | Tenant;
  clientId?: string;
  clientSecret?: string;
  /**
   * Scopes the OAuth client was created with. A token request naming a scope outside this list is
   * answered per `scopeMismatch`. Default: every scope of docs/coupa-api.md §2.
   */
  allowedScopes?: string[];
  /**
   * What a token request for scopes the client lacks gets: 'reject' = 400 invalid_scope (what
   * Doorkeeper-based Rails servers do; default), 'intersect' = a token with only the allowed ones.
   */
  scopeMismatch?: 'reject' | 'intersect';
  missingScopeStatus?: 401 | 403;
  /**
   * Legacy `X-COUPA-API-KEY` header (deprecated by Coupa, unsupported from R35): accepted, with every
   * scope, only when set here. Off by default so connectors cannot lean on it.
   */
  legacyApiKey?: string;
  tokenTtlSeconds?: number;
  arrayMode?: 'merge' | 'replace';
  unrevokableLicenses?: string[];
  membershipDelete?: boolean;
  /**
   * Whether membership changes made group-side (/api/user_group_memberships) bump the user's
   * updated-at. Coupa does not document it; default false (the pessimistic case for delta syncs).
   * User-side changes (PUT /api/users/:id) always bump it.
   */
  groupSideEditsBumpUser?: boolean;
  rateLimit?: { perSecond: number; burst: number } | false;
  retryAfter?: boolean;
  /** Fixed delay before every response (ms); `latency` wins when both are given. */
  latencyMs?: number;
  /**
   * Response time of every `/api` and `/oauth2` response: fixed, uniform or lognormal (median and
   * p99), optionally growing with the records and embedded references in the answer (latency.ts).
   */
  latency?: LatencySpec;
  /** Changes made to the tenant while a sync reads it (drift.ts); off by default. */
  drift?: DriftSpec;
  defaultOrder?: 'id' | 'shuffled';
  faults?: FaultRule[];
}

export interface RequestCounters {
  total: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  byRouteStatus: Record<string, Record<string, number>>;
}

export interface GroundTruth {
  users: Array<{
    id: number;
    login: string;
    email: string;
    fullname: string;
    active: boolean;
    apiUser: boolean;
    /** coupa_credentials, ldap or saml; only saml is SSO. */
    authenticationMethod: string;
    ssoIdentifier: string | null;
    managerId: number | null;
    /** Output key (`requisition-approval-limit`) → amount and currency, for the keys the user has. */
    approvalLimits: Record<string, { amount: string; currency: string }>;
  }>;
  userGroups: Array<{ id: number; name: string }>;
  /** The user groups with `can-approve`: the approval groups. */
  approvalGroups: Array<{ id: number; name: string }>;
  roles: Array<{ id: number; name: string; omnipotent: boolean }>;
  contentGroups: Array<{ id: number; name: string }>;
  accountGroups: Array<{ id: number; name: string }>;
  licenseFlags: string[];
  memberships: {
    roles: Array<[userId: number, roleId: number]>;
    userGroups: Array<[number, number]>;
    /** (user, group) for every can-approve group the user is in: the `approval-groups` array. */
    approvalGroups: Array<[number, number]>;
    contentGroups: Array<[number, number]>;
    accountGroups: Array<[number, number]>;
    licenses: Array<[userId: number, flag: string]>;
  };
}

export interface FaultRequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
}

export type FaultRule = {
  match?: { method?: string; path?: string | RegExp };
  probability?: number;
  onRequests?: number[];
  afterRequests?: number;
  times?: number;
} & (
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'malformed-json' }
  | { kind: 'html-200' }
  | { kind: 'xml' }
  | { kind: 'revoke-token' }
  | { kind: 'transform'; transform: (body: unknown, req: FaultRequestInfo) => unknown }
);

export interface FaultController {
  add(rule: FaultRule): () => void;
  clear(): void;
}

export interface Simulator {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenant: Tenant;
  counters(): RequestCounters;
  resetCounters(): void;
  groundTruth(): GroundTruth;
  readonly faults: FaultController;
  revokeTokens(): void;
  expireTokens(): void;
  /** What the `drift` option changed so far; undefined without drift. */
  driftLog(): DriftLog | undefined;
  close(): Promise<void>;
}
