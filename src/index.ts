/**
 * The library's public API: what an embedder may import from `coupa-connector` (package.json
 * `exports` points here, and nothing deeper is exported). It is the path a sync and a change take
 * through the layers, and nothing else: the folders' own index files are internal and may change
 * between releases. See the README, "Using it as a library".
 */

// Coupa API client.
export {
  CoupaClient,
  resolveBaseUrl,
  READ_SCOPES,
  ACCOUNTING_READ_SCOPE,
  WRITE_SCOPES,
  CoupaHttpError,
  type CoupaClientOptions,
  type ClientStats,
} from './coupa/index.js';

// Sync into a c1z (or any sink), and what the connector can do.
export {
  syncToC1z,
  SyncError,
  MemorySink,
  connectorCapabilities,
  type SyncOptions,
  type SyncSummary,
  type SyncProgress,
  type SyncSink,
} from './connector/index.js';

// Provisioning.
export {
  Provisioner,
  type ProvisionerOptions,
  type ProvisioningResult,
  type RecoveryReport,
} from './connector/provisioning/index.js';

// The c1z file.
export { C1zReader, C1zWriter, C1zError, type C1zReaderOptions, type C1zStats } from './c1z/index.js';

// The base of every error this package throws, with the exit code the CLI maps it to.
export { CoupaConnectorError, ExitCode } from './errors.js';
