import { C1zWriter } from '../c1z/writer.js';
import { keepSyncCount } from '../c1z/history.js';
import { CoupaConnectorError, ExitCode, InterruptedError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { UserSchema, type User } from '../coupa/models.js';
import { CoupaHttpError } from '../coupa/errors.js';
import type { CoupaClient } from '../coupa/client.js';
import type { WalkStats } from '../coupa/paginate.js';
import { Catalog, type C1zSink } from './catalog.js';
import { userResourceType, userToResource } from './user.js';
import { ResourceTypeId } from './ids.js';
import {
  ARRAY_MEMBERSHIPS,
  FLAG_MEMBERSHIPS,
  GRANTABLE_RESOURCE_TYPES,
  LISTED_RESOURCES,
  type ArrayMembership,
  type CoupaNamedObject,
  type ListedResource,
} from './types/index.js';
import { listPages, requestFloor, userFields } from './reads.js';

/** What the sync needs from the Coupa client. */
export type SyncClient = Pick<CoupaClient, 'paginate' | 'stats'> &
  Partial<Pick<CoupaClient, 'authenticate' | 'grantedScopes'>>;

export interface SyncProgress {
  phase: 'lists' | 'users' | 'writing';
  usersSynced: number;
  /** Estimated number of users (from the client's probe); undefined until known. */
  usersEstimated?: number;
  requests: number;
  elapsedMs: number;
}

/**
 * Where a sync writes: a C1zWriter, or anything with the same calls (a test's arrays). `finish`
 * makes the result durable and says where it went; `abort` throws everything away.
 */
export interface SyncSink extends C1zSink {
  /**
   * Optional: do now what finish() can do before the last rows arrive (the c1z writer builds its
   * indexes). Called once, when the users walk has its last requests out, so that the work
   * overlaps the wait for them; writes may follow.
   */
  prepareFinish?(): Promise<void>;
  finish(): Promise<{ path: string; bytes: number; syncId: string; previousSyncIds?: string[] }>;
  abort(): Promise<void>;
}

export interface SyncOptions {
  client: SyncClient;
  /** The c1z to write (replaced only once the new one is complete); needed unless `sink` is given. */
  outPath?: string;
  /** Write here instead of a new c1z at `outPath` (e.g. mapping tests that need no SQLite). */
  sink?: SyncSink;
  logger?: Logger;
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
  /**
   * Leave out, without asking, every resource whose scope is optional (today the account groups,
   * which need `core.accounting.read`); the CLI's `--skip-account-groups`.
   */
  skipAccountGroups?: boolean;
  /** Resource type ids with an optional scope to leave out without asking (see OptionalScope). */
  skipTypes?: readonly string[];
  /** Filled with the users walk's figures (requests by kind, most in flight), for benchmarks. */
  walkStats?: WalkStats;
  /** Full syncs the output file keeps, this one included; default BATON_KEEP_SYNC_COUNT or 2. */
  keepSyncs?: number;
  /** The Coupa host read (`acme.coupahost.com`), named in the "sync finished" record. */
  host?: string;
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
  /** Resource type ids left out for an optional scope (asked to, or their list was refused). */
  skippedTypes: string[];
  /** `skippedTypes` includes account_group; kept for callers that read this flag. */
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

/** A walk whose first `next()` was already asked for, as one iterable again. */
async function* resume<T>(first: Promise<IteratorResult<T>>, rest: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    const r = await first;
    if (r.done) return;
    yield r.value;
    yield* rest;
  } finally {
    await rest.return(undefined);
  }
}

/**
 * The list was refused (401/403), as happens when the token lacks the resource's optional scope.
 * A refused token request is not this: bad credentials must fail the sync.
 */
function isMissingScope(err: unknown, path: string): boolean {
  return (
    err instanceof CoupaHttpError && (err.status === 401 || err.status === 403) && err.path.endsWith(path)
  );
}

/** A list whose first page is in: the rest is read while the users are. */
interface OpenList {
  resource: ListedResource;
  first: CoupaNamedObject[];
  rest: AsyncGenerator<CoupaNamedObject[]>;
}

/**
 * Asks for one list's first page, or answers undefined for a resource left out: asked to (its scope
 * is optional and the caller said so), or its list refused for lack of that scope (with a
 * warning). Whether a list is readable shows on its first page; the rest can follow later.
 */
async function openList(
  client: SyncClient,
  resource: ListedResource,
  skip: (r: ListedResource) => boolean,
  logger: Logger,
  signal?: AbortSignal,
  stop?: AbortSignal,
): Promise<OpenList | undefined> {
  const optional = resource.spec.optionalScope;
  if (optional && skip(resource)) return undefined;
  const rest = listPages(client, resource, stop);
  try {
    const first = await rest.next();
    return { resource, first: first.done ? [] : first.value, rest };
  } catch (err) {
    await rest.return(undefined).catch(() => undefined);
    if (!optional || !isMissingScope(err, resource.spec.list.path) || signal?.aborted) throw err;
    const plural = resource.spec.plural;
    logger.warn(
      { path: resource.spec.list.path, err: (err as Error).message },
      `Skipping ${plural}: the OAuth client may not read them (scope ${optional.scope}). ` +
        `Add the scope to the client in Coupa, or pass ${optional.skipFlag} to silence this warning.`,
    );
    return undefined;
  }
}

/**
 * Reads a whole Coupa tenant into a new c1z at `outPath` (or into `sink`).
 *
 * Request plan: the small lists of every listed resource type from their own endpoints, then one paged pass over
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

  const writer = opts.sink ?? (await c1zSink(opts));
  const target = opts.outPath ?? 'the sync sink';
  let usersSynced = 0;
  let usersEstimated: number | undefined;
  /** The users walk has asked for its last pages (it says so once): the sink may get ready to finish. */
  let finishDue = false;
  const progress = (phase: SyncProgress['phase']) =>
    opts.onProgress?.({
      phase,
      usersSynced,
      usersEstimated,
      requests: client.stats().requests,
      elapsedMs: Date.now() - started,
    });

  let earlyUsers: AsyncGenerator<User[]> | undefined;
  // Stops the lists still being read when the sync fails (they run beside the users walk).
  const stopLists = new AbortController();
  try {
    progress('lists');
    const skip = (r: ListedResource) =>
      opts.skipAccountGroups === true || (opts.skipTypes ?? []).includes(r.id);
    // The token first (every request needs it anyway). When Coupa says which scopes it granted, the
    // users' fields are known before the lists are read, so the users walk starts with them: a round
    // trip earlier, and its first full page shows the lists' short pages can be trusted to be their
    // end (paginate.ts, PageEvidence) instead of each costing one more request.
    await client.authenticate?.();
    const granted = client.grantedScopes;
    const guessSkipped = LISTED_RESOURCES.filter(
      (r) => r.spec.optionalScope && (skip(r) || !granted?.has(r.spec.optionalScope.scope)),
    ).map((r) => r.id);
    const usersWalk = (skipped: readonly string[]) =>
      client.paginate('/api/users', {
        bothEnds: true,
        itemSchema: UserSchema,
        fields: userFields(skipped),
        onEstimate: (n) => {
          usersEstimated = n;
        },
        onAllAsked: () => {
          finishDue = true;
        },
        stats: opts.walkStats,
      });
    earlyUsers = granted === undefined ? undefined : usersWalk(guessSkipped);
    const firstUsers = earlyUsers?.next();
    // Not left unhandled if the lists fail first; the sync rethrows it when it reads the page.
    firstUsers?.catch(() => undefined);
    const opened = await Promise.all(
      LISTED_RESOURCES.map((r) => openList(client, r, skip, logger, signal, stopLists.signal)),
    );
    checkAbort();
    // With the early walk, memberships of a type are in the users' pages only if they were asked
    // for: a list readable against the granted scopes' word is left out, as if skipped.
    const open = opened.filter(
      (l): l is OpenList => l !== undefined && !(earlyUsers && guessSkipped.includes(l.resource.id)),
    );
    for (const l of opened) if (l && !open.includes(l)) await l.rest.return(undefined);
    const listedCounts = new Map<ListedResource, number>(open.map((l) => [l.resource, 0]));
    const skippedTypes = LISTED_RESOURCES.filter((r) => !listedCounts.has(r)).map((r) => r.id);

    writer.putResourceType(userResourceType);
    for (const rt of GRANTABLE_RESOURCE_TYPES) if (!skippedTypes.includes(rt.id)) writer.putResourceType(rt);

    const catalog = new Catalog(writer);
    const addListed = (resource: ListedResource, objects: CoupaNamedObject[]) => {
      for (const obj of objects) catalog.addListed(resource, obj);
      listedCounts.set(resource, listedCounts.get(resource)! + objects.length);
    };
    for (const l of open) addListed(l.resource, l.first);
    const arrays = ARRAY_MEMBERSHIPS.filter((m) => !skippedTypes.includes(m.resource.id));

    // The rest of the lists is read while the users are: a long list of groups read at a slow
    // tenant's pace must not hold the users back (their walk would wait with its pages unread).
    let listFailure: { error: unknown } | undefined;
    const listsRead = Promise.all(
      open.map(async (l) => {
        for await (const page of l.rest) addListed(l.resource, page);
      }),
    ).then(
      () => undefined,
      (error: unknown) => {
        listFailure = { error };
      },
    );
    const rethrowListFailure = () => {
      if (listFailure) throw listFailure.error;
    };

    // client.paginate yields each id once (it deduplicates), so users are written as they come.
    progress('users');
    const pages = earlyUsers && firstUsers ? resume(firstUsers, earlyUsers) : usersWalk(skippedTypes);
    for await (const page of pages) {
      checkAbort();
      rethrowListFailure();
      for (const user of page) {
        writeUser(catalog, writer, user, arrays);
        usersSynced++;
      }
      progress('users');
      // Between pages, not inside the walk's callback: nothing may be written meanwhile, and the
      // work blocks (SQLite) for seconds on a large tenant. The walk has nothing left to send
      // then, only answers to receive, which wait in the socket or in its queue of pages.
      if (finishDue && writer.prepareFinish) {
        finishDue = false;
        const t0 = Date.now();
        await writer.prepareFinish();
        logger.debug(
          { usersSynced, ms: Date.now() - t0 },
          'last user pages asked for; the file was readied to finish meanwhile',
        );
      }
    }
    checkAbort();
    await listsRead;
    rethrowListFailure();
    checkAbort();
    catalog.finishReferences();
    logger.debug(
      Object.fromEntries(LISTED_RESOURCES.map((r) => [r.id, listedCounts.get(r) ?? 'skipped'])),
      'listed groups and roles',
    );

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
        lists: Object.fromEntries([...listedCounts].map(([r, n]) => [r.id, n])),
      }),
      retries: stats.retries,
      throttled: stats.throttled,
      skippedTypes,
      accountGroupsSkipped: skippedTypes.includes(ResourceTypeId.accountGroup),
      lateArrivals: catalog.lateArrivals.length,
      previousSyncIds: written.previousSyncIds ?? [],
    };
    logSyncFinished(logger, summary, opts.host);
    return summary;
  } catch (err) {
    // A users walk started early stops its requests too, and so do the lists.
    stopLists.abort(err);
    await earlyUsers?.return(undefined).catch(() => undefined);
    await writer.abort();
    if (signal?.aborted) throw err instanceof InterruptedError ? err : interrupted(signal);
    if (err instanceof CoupaConnectorError) throw err;
    throw new SyncError(`Sync into ${target} failed: ${(err as Error)?.message ?? String(err)}`, err);
  }
}

/**
 * The record a log collector keys on: one info line per finished sync, with what was written and
 * what it cost, as a baton connector's syncer logs at its end.
 */
function logSyncFinished(logger: Logger, s: SyncSummary, host: string | undefined): void {
  logger.info(
    {
      caller: 'connector/sync',
      host,
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
      skippedTypes: s.skippedTypes,
      previousSyncIds: s.previousSyncIds,
    },
    'sync finished',
  );
}

function writeUser(catalog: Catalog, sink: C1zSink, user: User, arrays: readonly ArrayMembership[]): void {
  sink.putResource(userToResource(user));
  const uid = String(user.id);
  const fields = user as Record<string, unknown>;
  for (const membership of arrays) {
    const refs = (fields[membership.userField] as CoupaNamedObject[] | null | undefined) ?? [];
    // A list naming the same object twice must still give one grant.
    const seen = refs.length > 1 ? new Set<number>() : undefined;
    for (const ref of refs) {
      if (seen) {
        if (seen.has(ref.id)) continue;
        seen.add(ref.id);
      }
      catalog.grantMember(membership, ref, uid);
    }
  }
  for (const membership of FLAG_MEMBERSHIPS) {
    for (const flag of membership.flags) {
      const value = fields[flag];
      // A key the tenant's Coupa does not know is absent from the answer; present (even false or
      // null) means the flag exists on this tenant.
      if (value === undefined) continue;
      if (value === true) catalog.grantFlag(membership, flag, uid);
      else catalog.ensureFlag(membership, flag);
    }
  }
}

/** A new c1z at `opts.outPath`, keeping the file's earlier syncs as baton does. */
async function c1zSink(opts: SyncOptions): Promise<SyncSink> {
  if (!opts.outPath) throw new SyncError('A sync needs an output path (outPath) or a sink.');
  const writer = await C1zWriter.create(opts.outPath, { keepSyncs: opts.keepSyncs ?? keepSyncCount() });
  return {
    putResourceType: (rt) => writer.putResourceType(rt),
    putResource: (r) => writer.putResource(r),
    putEntitlement: (e) => writer.putEntitlement(e),
    putGrant: (g) => writer.putGrant(g),
    prepareFinish: () => writer.prepareFinish(),
    abort: () => writer.abort(),
    finish: async () => {
      const written = await writer.finish();
      return { ...written, previousSyncIds: written.history.kept.map((r) => r.syncId) };
    },
  };
}

/** The caller's own InterruptedError (it names the signal), or one describing the abort. */
function interrupted(signal: AbortSignal): InterruptedError {
  const reason: unknown = signal.reason;
  if (reason instanceof InterruptedError) return reason;
  return new InterruptedError(typeof reason === 'string' ? reason : 'an abort request');
}
