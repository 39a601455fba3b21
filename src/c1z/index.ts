/** The c1z store: baton v0.2.58's v1 file format (see docs/c1z.md). */
export { C1zWriter, type C1zWriterOptions, type C1zWriteResult } from './writer.js';
export {
  C1zReader,
  type C1zReaderOptions,
  type C1zStats,
  type GrantEdge,
  type GrantFilter,
  type SyncRun,
} from './reader.js';
export {
  C1zError,
  C1zLimitError,
  C1zWriteError,
  CorruptC1zError,
  NoSyncError,
  NotC1zError,
  UnreadablePreviousC1zError,
  UnsupportedC1zVersionError,
} from './errors.js';
export {
  c1zRegistry,
  emptyAnnotation,
  findAnnotation,
  hasAnnotation,
  packAnnotation,
  typeUrlOf,
} from './any.js';
