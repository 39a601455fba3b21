import { C1zWriter } from '../c1z/writer.js';
import { keepSyncCount } from '../c1z/history.js';
import { CoupaConnectorError, ExitCode, InterruptedError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { LICENSE_FLAGS, UserSchema, type User } from '../coupa/models.js';
import { CoupaAuthError, CoupaForbiddenError } from '../coupa/errors.js';
import type { CoupaClient } from '../coupa/client.js';
import { Catalog, type C1zSink } from './catalog.js';
import type { CoupaNamedObject, GroupLikeKind } from './group-like.js';
import { userGroupKind } from './group.js';
import { roleKind } from './role.js';
import { contentGroupKind } from './content-group.js';
import { accountGroupKind } from './account-group.js';
import { licenseResourceType } from './license.js';
import { userResourceType, userToResource } from './user.js';
import { ResourceTypeId } from './ids.js';
import {
  ACCOUNT_GROUPS,
  CONTENT_GROUPS,
  readList,
  requestFloor,
  ROLES,
  USER_GROUPS,
  userFields,
} from './reads.js';

/** What the sync needs from the Coupa client. */
export type SyncClient = Pick<CoupaClient, 'paginate' | 'stats'>;

export interface SyncProgress {
  phase: 'lists' | 'users' | 'writing';
  usersSynced: number;
  /** Estimated number of users (from the client's probe); undefined until known. */
  usersEstimated?: number;
  requests: number;
  elapsedMs: number;
}

export interface SyncOptions {
  client: SyncClient;
  outPath: string;
  logger?: Logger;
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
  /** Leave account groups out without asking (the OAuth client lacks `core.accounting.read`). */
  skipAccountGroups?: boolean;
  /** Parallel key ranges for /api/users; enough to keep 25 req/s busy at ~100 ms latency. */
  userLanes?: number;
  /** Full syncs the output file keeps, this one included; default BATON_KEEP_SYNC_COUNT or 2. */
  keepSyncs?: number;
}

export interface SyncSummary {
  path: string;
  bytes: number;
  syncId: string;
  durationMs: number;
  /** Resources written, by resource type id (user, group, role, license, content_group, account_group). */
  resources: Record<string, number>;
  entitlements: number;
  grants: number;
  grantsByType: Record<string, number>;
  /** HTTP requests the client made, token requests included. */
  requests: number;
  /** The least number of requests this tenant can be read with (see requestFloor). */
  requestFloor: number;
  retries: number;
  /** 429 answers. */
  throttled: number;
  accountGroupsSkipped: boolean;
  /** Groups/roles/… written from a user's embedded reference because their list did not return them. */
  lateArrivals: number;
  /** Earlier syncs the file still holds (newest first), e.g. for `diff`. */
  previousSyncIds: string[];
}

/** A failure of the sync itself (not of Coupa, the c1z writer or the user's input). */
export class SyncError extends CoupaConnectorError {
  constructor(message: string, cause?: unknown) {
    super(message, {
      exitCode: ExitCode.failure,
      hint: 'The previous output file, if any, was left untouched. Re-run with --log-level debug for details.',
      cause,
    });
  }
}

export const DEFAULT_USER_LANES = 4;

/** The user-side membership arrays and the kind each one grants. */
function memberships(user: User, includeAccountGroups: boolean): Array<[GroupLikeKind, CoupaNamedObject[]]> {
  const out: Array<[GroupLikeKind, CoupaNamedObject[]]> = [
    [roleKind, user.roles ?? []],
    [userGroupKind, user['user-groups'] ?? []],
    [contentGroupKind, user['content-groups'] ?? []],
  ];
  if (includeAccountGroups) out.push([accountGroupKind, user['account-groups'] ?? []]);
  return out;
}

/**
 * The account-group list itself was refused (401/403), as happens when the token lacks
 * `core.accounting.read`. A refused token request is not this: bad credentials must fail the sync.
 */
function isMissingScope(err: unknown, path: string): boolean {
  return (err instanceof CoupaAuthError || err instanceof CoupaForbiddenError) && err.path.endsWith(path);
}

/**
 * Reads a whole Coupa tenant into a new c1z at `outPath`.
 *
 * Request plan: the four small lists from their own endpoints, then one paged pass over
 * /api/users whose `fields` projection carries every user's memberships and license flags, so
 * grants cost no request of their own. Users are written as their pages arrive; only the small
 * objects (groups, roles, licenses) are kept in memory. On any failure or abort nothing is
 * written to `outPath` and the error is rethrown (typed).
 */
export async function syncToC1z(opts: SyncOptions): Promise<SyncSummary> {
  const logger = opts.logger ?? silentLogger;
  const { client, signal } = opts;
  const started = Date.now();
  const checkAbort = () => {
    if (signal?.aborted) throw interrupted(signal);
  };
  checkAbort();

  const writer = await C1zWriter.create(opts.outPath, { keepSyncs: opts.keepSyncs ?? keepSyncCount() });
  let usersSynced = 0;
  let usersEstimated: number | undefined;
  const progress = (phase: SyncProgress['phase']) =>
    opts.onProgress?.({
      phase,
      usersSynced,
      usersEstimated,
      requests: client.stats().requests,
      elapsedMs: Date.now() - started,
    });

  try {
    progress('lists');
    const includeAccountGroupsWanted = !opts.skipAccountGroups;
    const [userGroups, roles, contentGroups, accountGroups] = await Promise.all([
      readList(client, USER_GROUPS),
      readList(client, ROLES),
      readList(client, CONTENT_GROUPS),
      includeAccountGroupsWanted
        ? readList(client, ACCOUNT_GROUPS).catch((err: unknown) => {
            if (!isMissingScope(err, ACCOUNT_GROUPS.path) || signal?.aborted) throw err;
            logger.warn(
              { path: ACCOUNT_GROUPS.path, err: (err as Error).message },
              'Skipping account groups: the OAuth client may not read them (scope core.accounting.read). ' +
                'Add the scope to the client in Coupa, or pass --skip-account-groups to silence this warning.',
            );
            return undefined;
          })
        : Promise.resolve(undefined),
    ]);
    checkAbort();
    const includeAccountGroups = accountGroups !== undefined;
    logger.debug(
      {
        userGroups: userGroups.length,
        roles: roles.length,
        contentGroups: contentGroups.length,
        accountGroups: accountGroups?.length ?? 'skipped',
      },
      'listed groups and roles',
    );

    writer.putResourceType(userResourceType);
    writer.putResourceType(userGroupKind.resourceType);
    writer.putResourceType(roleKind.resourceType);
    writer.putResourceType(licenseResourceType);
    writer.putResourceType(contentGroupKind.resourceType);
    if (includeAccountGroups) writer.putResourceType(accountGroupKind.resourceType);

    const catalog = new Catalog(writer);
    for (const g of userGroups) catalog.addListed(USER_GROUPS.kind, g);
    for (const r of roles) catalog.addListed(ROLES.kind, r);
    for (const c of contentGroups) catalog.addListed(CONTENT_GROUPS.kind, c);
    for (const a of accountGroups ?? []) catalog.addListed(ACCOUNT_GROUPS.kind, a);

    // client.paginate yields each id once across the probe, the lanes and the top (it deduplicates), so
    // users are written as they come.
    progress('users');
    const pages = client.paginate('/api/users', {
      itemSchema: UserSchema,
      fields: userFields(includeAccountGroups),
      lanes: opts.userLanes ?? DEFAULT_USER_LANES,
      onEstimate: (n) => {
        usersEstimated = n;
      },
    });
    for await (const page of pages) {
      checkAbort();
      for (const user of page) {
        writeUser(catalog, writer, user, includeAccountGroups);
        usersSynced++;
      }
      progress('users');
    }
    checkAbort();

    for (const late of catalog.lateArrivals) {
      logger.info(
        late,
        'Wrote an object a user references that its list did not return (created during the sync)',
      );
    }
    progress('writing');
    const written = await writer.finish();
    const stats = client.stats();
    const resources = { [ResourceTypeId.user]: usersSynced, ...catalog.resourcesByType() };
    const grantsByType = catalog.grantsByType();
    const summary: SyncSummary = {
      path: written.path,
      bytes: written.bytes,
      syncId: written.syncId,
      durationMs: Date.now() - started,
      resources,
      entitlements: catalog.entitlements,
      grants: Object.values(grantsByType).reduce((a, b) => a + b, 0),
      grantsByType,
      requests: stats.requests,
      requestFloor: requestFloor({
        users: usersSynced,
        userGroups: userGroups.length,
        roles: roles.length,
        contentGroups: contentGroups.length,
        accountGroups: accountGroups?.length,
      }),
      retries: stats.retries,
      throttled: stats.throttled,
      accountGroupsSkipped: !includeAccountGroups,
      lateArrivals: catalog.lateArrivals.length,
      previousSyncIds: written.history.kept.map((r) => r.syncId),
    };
    logSyncFinished(logger, summary);
    return summary;
  } catch (err) {
    await writer.abort();
    if (signal?.aborted) throw err instanceof InterruptedError ? err : interrupted(signal);
    if (err instanceof CoupaConnectorError) throw err;
    throw new SyncError(`Sync into ${opts.outPath} failed: ${(err as Error)?.message ?? String(err)}`, err);
  }
}

/**
 * The record a log collector keys on: one info line per finished sync, with what was written and
 * what it cost, as a baton connector's syncer logs at its end.
 */
function logSyncFinished(logger: Logger, s: SyncSummary): void {
  logger.info(
    {
      caller: 'connector/sync',
      syncId: s.syncId,
      output: s.path,
      bytes: s.bytes,
      durationMs: s.durationMs,
      resources: Object.values(s.resources).reduce((a, b) => a + b, 0),
      resourcesByType: s.resources,
      entitlements: s.entitlements,
      grants: s.grants,
      grantsByType: s.grantsByType,
      requests: s.requests,
      requestFloor: s.requestFloor,
      retries: s.retries,
      throttled: s.throttled,
      accountGroupsSkipped: s.accountGroupsSkipped,
      previousSyncIds: s.previousSyncIds,
    },
    'sync finished',
  );
}

function writeUser(catalog: Catalog, sink: C1zSink, user: User, includeAccountGroups: boolean): void {
  sink.putResource(userToResource(user));
  const uid = String(user.id);
  for (const [kind, refs] of memberships(user, includeAccountGroups)) {
    // A list naming the same object twice must still give one grant.
    const seen = refs.length > 1 ? new Set<number>() : undefined;
    for (const ref of refs) {
      if (seen) {
        if (seen.has(ref.id)) continue;
        seen.add(ref.id);
      }
      catalog.grantMember(kind, ref, uid);
    }
  }
  const flags = user as Record<string, unknown>;
  for (const flag of LICENSE_FLAGS) {
    const value = flags[flag];
    // A key the tenant's Coupa does not know is absent from the answer; present (even false or
    // null) means the license exists on this tenant.
    if (value === undefined) continue;
    if (value === true) catalog.grantLicense(flag, uid);
    else catalog.ensureLicense(flag);
  }
}

/** The caller's own InterruptedError (it names the signal), or one describing the abort. */
function interrupted(signal: AbortSignal): InterruptedError {
  const reason: unknown = signal.reason;
  if (reason instanceof InterruptedError) return reason;
  return new InterruptedError(typeof reason === 'string' ? reason : 'an abort request');
}
