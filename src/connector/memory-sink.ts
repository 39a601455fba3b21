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
  putResource(r: Resource): void {
    this.resources.push(r);
  }
  putEntitlement(e: Entitlement): void {
    this.entitlements.push(e);
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
