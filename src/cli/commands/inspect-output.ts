import type { Listing } from '../../c1z/inspect.js';
import { safeCell } from '../../util/safe-text.js';

export type OutputFormat = 'console' | 'json' | 'csv';

/** Where the inspector writes; tests pass buffers, the CLI passes stdout/stderr. */
export interface InspectIo {
  out(text: string): Promise<void> | void;
  err(text: string): void;
}

let stdoutClosed = false;
let stdoutWatched = false;

/**
 * stdout, with backpressure so a million-row listing streams instead of piling up in memory, and
 * quiet when the reader goes away (`... | head`): EPIPE ends the output, it is not an error.
 */
export const processIo: InspectIo = {
  out: (text) => {
    if (!stdoutWatched) {
      stdoutWatched = true;
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') stdoutClosed = true;
        else throw err;
      });
    }
    if (stdoutClosed) return;
    if (process.stdout.write(text)) return;
    return new Promise<void>((resolve) => {
      const done = () => {
        process.stdout.off('drain', done);
        process.stdout.off('close', done);
        resolve();
      };
      process.stdout.on('drain', done);
      process.stdout.on('close', done);
    });
  },
  err: (text) => {
    process.stderr.write(text);
  },
};

/** Writes the listing and returns how many rows it had. */
export async function render(listing: Listing, format: OutputFormat, io: InspectIo): Promise<number> {
  if (format === 'json') return renderJson(listing, io);
  if (format === 'csv') return renderCsv(listing, io);
  return renderConsole(listing, io);
}

async function renderJson(listing: Listing, io: InspectIo): Promise<number> {
  const head = listing.head ?? {};
  if (listing.headOnlyJson) {
    let n = 0;
    for (const _ of listing.rows) n++;
    await io.out(JSON.stringify(head, null, 2) + '\n');
    return n;
  }
  let text = '{\n';
  for (const [k, v] of Object.entries(head))
    text += `  ${JSON.stringify(k)}: ${indent(JSON.stringify(v, null, 2))},\n`;
  text += `  ${JSON.stringify(listing.name)}: [`;
  await io.out(text);
  let n = 0;
  let chunk = '';
  for (const row of listing.rows) {
    chunk += (n === 0 ? '\n    ' : ',\n    ') + indent(JSON.stringify(row.json(), null, 2), 2);
    n++;
    if (chunk.length > 1 << 16) {
      await io.out(chunk);
      chunk = '';
    }
  }
  chunk += n === 0 ? ']' : '\n  ]';
  await io.out(`${chunk},\n  "count": ${n},\n  "danglingGrants": ${listing.dangling.grants}\n}\n`);
  return n;
}

function indent(json: string, levels = 1): string {
  return json.replace(/\n/g, '\n' + '  '.repeat(levels));
}

async function renderCsv(listing: Listing, io: InspectIo): Promise<number> {
  const keys = listing.columns.map((c) => c.key);
  let chunk = listing.columns.map((c) => csvField(c.header)).join(',') + '\n';
  let n = 0;
  for (const row of listing.rows) {
    chunk += keys.map((k) => csvField(row.cells[k] ?? '')).join(',') + '\n';
    n++;
    if (chunk.length > 1 << 16) {
      await io.out(chunk);
      chunk = '';
    }
  }
  await io.out(chunk);
  return n;
}

/** RFC 4180 quoting; a leading =,+,-,@ is prefixed so spreadsheets do not run it as a formula. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

async function renderConsole(listing: Listing, io: InspectIo): Promise<number> {
  // Column widths need every row; the console format is for people, who do not read millions.
  const cols = listing.columns;
  // Cells are made safe and capped once (see safeCell: a name can hold terminal escapes, and one
  // huge name would otherwise pad every row to its width); -o json / -o csv keep the full value.
  // Widths are found in a loop, since spreading a large file's rows into Math.max overflows the
  // call stack (at ~125k rows).
  const rows: string[][] = [];
  for (const r of listing.rows) rows.push(cols.map((c) => safeCell(r.cells[c.key] ?? '')));
  const headers = cols.map((c) => safeCell(c.header));
  const width = headers.map((h) => h.length);
  for (const cells of rows) {
    cells.forEach((v, i) => {
      if (v.length > width[i]!) width[i] = v.length;
    });
  }
  const line = (cells: string[]) =>
    cells
      .map((v, i) => (i === cells.length - 1 ? v : v.padEnd(width[i]!)))
      .join('  ')
      .trimEnd() + '\n';
  let text = line(headers) + line(width.map((w) => '-'.repeat(w)));
  for (const cells of rows) {
    text += line(cells);
    if (text.length > 1 << 16) {
      await io.out(text);
      text = '';
    }
  }
  await io.out(text);
  return rows.length;
}
