import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import {
  appendLineDurably,
  ensureAppendable,
  unlinkQuietly,
  writeFileAtomically,
} from '../../util/durable-file.js';
import { acquireLockFileSync } from './lock-file.js';

/**
 * The write-ahead journal of list changes that can leave a user short: removals in tenants that
 * merge arrays (before a list is cleared), and any list change one of whose writes lost its answer
 * (before waiting out the settle window, see write-watch.ts). An `intent` line records the complete
 * list the user must end up with; a `done` line closes it once the API has confirmed that list. An intent without a `done` is exactly the work `recover` must
 * finish. JSON lines, appended and fsynced: a crash can at worst leave a torn last line, which is
 * skipped (it never reached the point where the list was cleared).
 *
 * Bounded: once the file outgrows a threshold, a `done` append compacts it to the lines `recover`
 * can still need (see `linesToKeep`). Several processes may share the file, so every append and
 * every compaction happens under one journal-wide lock file (`<journal>.lock`): without it a
 * compaction's rename could drop a line another process appended between our read and the rename.
 */

export const DEFAULT_JOURNAL_PATH = '.coupa-connector/journal.jsonl';
export const DEFAULT_COMPACT_ABOVE_BYTES = 1024 * 1024;
/** Holds last milliseconds (one fsync, or a rewrite of about a threshold's worth of lines). */
const JOURNAL_LOCK_TIMEOUT_MS = 60_000;
/** Only a holder on another host is judged by age (a dead one here is seen at once by its pid). */
const JOURNAL_LOCK_MAX_AGE_MS = 30_000;

export interface JournalOptions {
  /** Compact after a `done` line once the file is larger than this; default 1 MiB. */
  compactAboveBytes?: number;
  /** Told about broken stale locks and failed compactions (neither fails an operation). */
  logger?: Logger;
}

const RefSchema = z.object({ id: z.number().int(), name: z.string().nullish() });
export type JournalRef = z.infer<typeof RefSchema>;

const IntentSchema = z.object({
  type: z.literal('intent'),
  entryId: z.string(),
  time: z.string(),
  baseUrl: z.string(),
  userId: z.number().int(),
  operation: z.string(),
  entitlementId: z.string(),
  field: z.string(),
  intended: z.array(RefSchema),
  removed: z.array(RefSchema),
});
export type JournalIntent = z.infer<typeof IntentSchema>;

const DoneSchema = z.object({
  type: z.literal('done'),
  entryId: z.string(),
  time: z.string(),
  result: z.string(),
});

const LineSchema = z.discriminatedUnion('type', [IntentSchema, DoneSchema]);

export interface JournalScan {
  unfinished: JournalIntent[];
  /** Every intent, finished or not, in file order (recovery looks at what came later). */
  all: JournalIntent[];
  /** 1-based numbers of lines that did not parse (a torn write, or a hand edit). */
  badLines: number[];
}

export class Journal {
  readonly path: string;
  readonly lockPath: string;
  readonly compactAboveBytes: number;
  /** Compactions this instance made (for tests and logs). */
  compactions = 0;
  private readonly logger: Logger;
  /**
   * Size that triggers the next compaction: the threshold, or twice what the last one had to keep
   * when that was more, so that many unfinished entries do not make every `done` rewrite the file.
   */
  private compactAt: number;

  constructor(path: string = DEFAULT_JOURNAL_PATH, opts: JournalOptions = {}) {
    this.path = resolve(path);
    this.lockPath = `${this.path}.lock`;
    this.compactAboveBytes = opts.compactAboveBytes ?? DEFAULT_COMPACT_ABOVE_BYTES;
    this.compactAt = this.compactAboveBytes;
    this.logger = opts.logger ?? silentLogger;
  }

  /** Fails before any change is made, rather than in the middle of a removal. */
  ensureWritable(): void {
    ensureAppendable(this.path, 'provisioning journal', '--journal');
    // The lock file and a compaction's temp file are new files in the folder: prove they can be made.
    this.locked(() => undefined);
  }

  begin(intent: Omit<JournalIntent, 'type' | 'entryId' | 'time'>): JournalIntent {
    const entry: JournalIntent = {
      type: 'intent',
      entryId: randomUUID(),
      time: new Date().toISOString(),
      ...intent,
    };
    this.append(entry, false);
    return entry;
  }

  finish(entryId: string, result: string): void {
    this.append({ type: 'done', entryId, time: new Date().toISOString(), result }, true);
  }

  /** Intents without a matching `done`, oldest first; only those for `baseUrl` when given. */
  scan(baseUrl?: string): JournalScan {
    if (!existsSync(this.path)) return { unfinished: [], all: [], badLines: [] };
    const open = new Map<string, JournalIntent>();
    const all: JournalIntent[] = [];
    const badLines: number[] = [];
    readFileSync(this.path, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const line = parseLine(text);
        if (line === 'blank') return;
        if (line === 'bad') badLines.push(i + 1);
        else if (line.type === 'intent') {
          open.set(line.entryId, line);
          all.push(line);
        } else open.delete(line.entryId);
      });
    const unfinished = [...open.values()].filter((e) => baseUrl === undefined || e.baseUrl === baseUrl);
    return { unfinished, all, badLines };
  }

  /**
   * Rewrites the journal with only the lines `recover` can still need, if that is smaller.
   * Normally called by `finish` once the file is over the threshold; exposed for tests and tools.
   */
  compact(): void {
    this.locked(() => this.compactLocked());
  }

  private append(line: object, mayCompact: boolean): void {
    this.locked(() => {
      let size: number;
      try {
        size = appendLineDurably(this.path, JSON.stringify(line));
      } catch (err) {
        throw cannotWrite(this.path, err);
      }
      if (!mayCompact || size <= this.compactAt) return;
      try {
        this.compactLocked();
      } catch (err) {
        // The `done` line is on disk and the old file is whole: only the trimming is put off.
        this.logger.warn(
          { journal: this.path, err: (err as Error).message },
          'Could not compact the provisioning journal; it stays as it is and is compacted later.',
        );
      }
    });
  }

  private locked<T>(fn: () => T): T {
    let release: () => void;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      release = acquireLockFileSync(this.lockPath, {
        name: 'journal',
        timeoutMs: JOURNAL_LOCK_TIMEOUT_MS,
        maxAgeMs: JOURNAL_LOCK_MAX_AGE_MS,
        logger: this.logger,
      });
    } catch (err) {
      throw cannotWrite(this.path, err);
    }
    try {
      return fn();
    } finally {
      release();
    }
  }

  /**
   * Temp file, fsync, rename, fsync of the folder: a crash at any point leaves either the old or
   * the new complete journal (a leftover temp file is not the journal and is removed next time).
   * Only call with the journal lock held.
   */
  private compactLocked(): void {
    this.removeLeftoverTempFiles();
    if (!existsSync(this.path)) return;
    const raw = readFileSync(this.path);
    const kept = linesToKeep(raw.toString('utf8'));
    const text = kept.length ? kept.join('\n') + '\n' : '';
    const keptBytes = Buffer.byteLength(text, 'utf8');
    this.compactAt = Math.max(this.compactAboveBytes, 2 * keptBytes);
    if (keptBytes >= raw.length) return;
    const temp = `${this.path}${TEMP_INFIX}${process.pid}-${randomUUID().slice(0, 8)}.tmp`;
    const replaced = writeFileAtomically(this.path, text, {
      tempPath: temp,
      // Defence in depth: if the file grew since we read it (a holder wrongly judged stale), the
      // rename would drop the new line; keep the old file instead.
      beforeRename: () => statSync(this.path).size === raw.length,
    });
    if (!replaced) return;
    this.compactions += 1;
  }

  /** Left by a compaction that died before its rename; only a lock holder compacts, so none is live. */
  private removeLeftoverTempFiles(): void {
    const prefix = basename(this.path) + TEMP_INFIX;
    for (const name of readdirSync(dirname(this.path))) {
      if (name.startsWith(prefix) && name.endsWith('.tmp')) unlinkQuietly(join(dirname(this.path), name));
    }
  }
}

const TEMP_INFIX = '.compact-';

type ParsedLine = z.infer<typeof LineSchema> | 'bad' | 'blank';

function parseLine(text: string): ParsedLine {
  if (!text.trim()) return 'blank';
  try {
    const parsed = LineSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : 'bad';
  } catch {
    return 'bad';
  }
}

/**
 * The lines a compaction keeps, verbatim and in order:
 * - every intent without a later `done` (the work `recover` must do);
 * - every intent, finished or not, that comes after an unfinished one for the same tenant, user
 *   and field, with its `done` line: `recover` reads their `removed` items (what later removals
 *   took off that list must stay off), and without its `done` a finished one would look unfinished;
 * - lines that do not parse: they may be a hand-edited entry someone still means to repair.
 * Everything else (finished intents nobody can need, their `done` lines) goes. Keeping only these,
 * rather than everything after the first unfinished entry, stops one entry that is never recovered
 * (a tenant no longer used) from pinning the rest of the file forever.
 */
export function linesToKeep(text: string): string[] {
  const lines = text.split('\n').map((raw) => ({ raw, line: parseLine(raw) }));
  const finished = new Set<number>();
  const doneLater = new Set<string>();
  for (let i = lines.length - 1; i >= 0; i--) {
    const { line } = lines[i]!;
    if (typeof line !== 'object') continue;
    if (line.type === 'done') doneLater.add(line.entryId);
    else if (doneLater.has(line.entryId)) finished.add(i);
  }
  const openLists = new Set<string>();
  const keptIntents = new Set<string>();
  const kept: string[] = [];
  lines.forEach(({ raw, line }, i) => {
    if (line === 'blank') return;
    if (line === 'bad') {
      kept.push(raw);
      return;
    }
    if (line.type === 'done') {
      if (keptIntents.has(line.entryId)) kept.push(raw);
      return;
    }
    const list = JSON.stringify([line.baseUrl, line.userId, line.field]);
    if (!finished.has(i)) openLists.add(list);
    else if (!openLists.has(list)) return;
    keptIntents.add(line.entryId);
    kept.push(raw);
  });
  return kept;
}

function cannotWrite(path: string, err: unknown): ConfigError {
  return new ConfigError(
    `Cannot write the provisioning journal ${path}: ${(err as Error).message}.`,
    'Pass --journal <path> pointing to a writable file; nothing was changed in Coupa.',
  );
}
