import {
  ACCOUNTING_READ_SCOPE,
  CoupaClient,
  READ_SCOPES,
  WRITE_SCOPES,
  type CoupaClientOptions,
} from '../../src/coupa/index.js';

/** Building the Coupa client for a test, the same way in every test folder. */

/** Where the client goes: a simulator, or any fake with an address and credentials. */
export interface ClientTarget {
  url: string;
  clientId: string;
  clientSecret: string;
}

export interface TestClientOptions extends Partial<
  Omit<CoupaClientOptions, 'baseUrl' | 'clientId' | 'clientSecret'>
> {
  /** core.accounting.read: asked for as a required scope (default), not at all, or as an optional one. */
  accounting?: boolean | 'optional';
  /** Also the write scopes, as provisioning asks for them. */
  write?: boolean;
}

/**
 * A client with the read scopes and no client-side rate limit. Option layers apply in order, later
 * ones winning, except `retry`, whose fields merge: a preset's backoff stays when a test sets a limit.
 */
export function testClient(target: ClientTarget, ...layers: TestClientOptions[]): CoupaClient {
  const merged: TestClientOptions = {};
  for (const layer of layers) Object.assign(merged, layer, { retry: { ...merged.retry, ...layer.retry } });
  const { accounting = true, write = false, ...options } = merged;
  return new CoupaClient({
    baseUrl: target.url,
    clientId: target.clientId,
    clientSecret: target.clientSecret,
    scopes: [
      ...READ_SCOPES,
      ...(accounting === true ? [ACCOUNTING_READ_SCOPE] : []),
      ...(write ? WRITE_SCOPES : []),
    ],
    optionalScopes: accounting === 'optional' ? [ACCOUNTING_READ_SCOPE] : undefined,
    rateLimit: false,
    ...options,
  });
}
