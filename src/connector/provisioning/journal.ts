import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { appendLineDurably, ensureAppendable } from './durable-append.js';

/**
 * The write-ahead journal for removals in tenants that merge arrays. Before a list is cleared, an
 * `intent` line records the complete list the user must end up with; a `done` line closes it once
 * the API has confirmed that list. An intent without a `done` is exactly the work `recover` must
 * finish. JSON lines, append-only, fsynced: a crash can at worst leave a torn last line, which is
 * skipped (it never reached the point where the list was cleared).
 */

export const DEFAULT_JOURNAL_PATH = '.coupa-connector/journal.jsonl';

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

  constructor(path: string = DEFAULT_JOURNAL_PATH) {
    this.path = resolve(path);
  }

  /** Fails before any change is made, rather than in the middle of a removal. */
  ensureWritable(): void {
    ensureAppendable(this.path, 'provisioning journal', '--journal');
  }

  begin(intent: Omit<JournalIntent, 'type' | 'entryId' | 'time'>): JournalIntent {
    const entry: JournalIntent = {
      type: 'intent',
      entryId: randomUUID(),
      time: new Date().toISOString(),
      ...intent,
    };
    this.append(entry);
    return entry;
  }

  finish(entryId: string, result: string): void {
    this.append({ type: 'done', entryId, time: new Date().toISOString(), result });
  }

  /** Intents without a matching `done`, oldest first; only those for `baseUrl` when given. */
  scan(baseUrl?: string): JournalScan {
    if (!existsSync(this.path)) return { unfinished: [], all: [], badLines: [] };
    const open = new Map<string, JournalIntent>();
    const all: JournalIntent[] = [];
    const badLines: number[] = [];
    const lines = readFileSync(this.path, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let parsed;
      try {
        parsed = LineSchema.safeParse(JSON.parse(line));
      } catch {
        badLines.push(i + 1);
        return;
      }
      if (!parsed.success) {
        badLines.push(i + 1);
        return;
      }
      if (parsed.data.type === 'intent') {
        open.set(parsed.data.entryId, parsed.data);
        all.push(parsed.data);
      } else open.delete(parsed.data.entryId);
    });
    const unfinished = [...open.values()].filter((e) => baseUrl === undefined || e.baseUrl === baseUrl);
    return { unfinished, all, badLines };
  }

  private append(line: object): void {
    try {
      appendLineDurably(this.path, JSON.stringify(line));
    } catch (err) {
      throw new ConfigError(
        `Cannot write the provisioning journal ${this.path}: ${(err as Error).message}.`,
        'Pass --journal <path> pointing to a writable file; nothing was changed in Coupa.',
      );
    }
  }
}
