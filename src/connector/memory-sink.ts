import type { Entitlement, Grant, Resource, ResourceType } from '../c1z/messages.js';
import type { SyncSink } from './sync.js';

/**
 * A sync sink that keeps everything in arrays: for tests of the mapping and for embedders that
 * want the objects rather than a file. Not for large tenants (a c1z keeps memory flat, this does not).
 */
export class MemorySink implements SyncSink {
  readonly resourceTypes: ResourceType[] = [];
  readonly resources: Resource[] = [];
  readonly entitlements: Entitlement[] = [];
  readonly grants: Grant[] = [];
  state: 'open' | 'finished' | 'aborted' = 'open';

  putResourceType(rt: ResourceType): void {
    this.resourceTypes.push(rt);
  }
  // Like the c1z store, a second put of the same id replaces the first (the sync rewrites an
  // object first seen in a user's reference once its list returns it).
  private readonly resourceAt = new Map<string, number>();
  private readonly entitlementAt = new Map<string, number>();

  putResource(r: Resource): void {
    upsert(this.resources, this.resourceAt, `${r.id?.resourceType}:${r.id?.resource}`, r);
  }
  putEntitlement(e: Entitlement): void {
    upsert(this.entitlements, this.entitlementAt, e.id, e);
  }
  putGrant(g: Grant): void {
    this.grants.push(g);
  }

  finish(): Promise<{ path: string; bytes: number; syncId: string }> {
    this.state = 'finished';
    return Promise.resolve({ path: '(memory)', bytes: 0, syncId: 'memory' });
  }

  abort(): Promise<void> {
    this.state = 'aborted';
    return Promise.resolve();
  }
}

function upsert<T>(list: T[], at: Map<string, number>, key: string, item: T): void {
  const i = at.get(key);
  if (i === undefined) {
    at.set(key, list.length);
    list.push(item);
  } else list[i] = item;
}
