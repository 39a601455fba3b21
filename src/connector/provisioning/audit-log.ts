import { resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { redact } from '../../secrets.js';
import { appendLineDurably, ensureAppendable } from '../../util/durable-file.js';

/**
 * One JSON line per attempted change: who changed what on which tenant, the state before and
 * after as the API reported it, and how it ended. Already-held/already-revoked outcomes are logged
 * too (an access review wants to see that the request was honoured). Every line passes through
 * `redact`, so a registered secret can never reach the file, whatever a message contains.
 */

export const DEFAULT_AUDIT_LOG_PATH = '.coupa-connector/audit.jsonl';

export type AuditResult = 'ok' | 'already' | 'error' | 'needs-recovery';

export interface AuditRecord {
  operation: string;
  baseUrl: string;
  userId: number | null;
  entitlement?: string;
  before?: unknown;
  after?: unknown;
  result: AuditResult;
  message?: string;
}

export class AuditLog {
  readonly path: string;

  constructor(path: string = DEFAULT_AUDIT_LOG_PATH) {
    this.path = resolve(path);
  }

  /** Fails before any change is made, rather than after one that could then not be logged. */
  ensureWritable(): void {
    ensureAppendable(this.path, 'audit log', '--audit-log');
  }

  record(entry: AuditRecord): void {
    const line = redact(JSON.stringify({ time: new Date().toISOString(), ...entry }));
    try {
      appendLineDurably(this.path, line);
    } catch (err) {
      throw new ConfigError(
        `Cannot write the audit log ${this.path}: ${(err as Error).message}.`,
        'Pass --audit-log <path> pointing to a writable file.',
      );
    }
  }
}
