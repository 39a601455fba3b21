import type { SyncSummary } from '../connector/sync.js';
import { LISTED_RESOURCES, RESOURCE_TYPE_ORDER } from '../connector/types/index.js';

/** Resource types in the order of the membership types' list; anything else follows alphabetically. */
const TYPE_ORDER = RESOURCE_TYPE_ORDER;

function ordered(counts: Record<string, number>): Array<[string, number]> {
  const rank = (t: string) => {
    const i = TYPE_ORDER.indexOf(t);
    return i === -1 ? TYPE_ORDER.length : i;
  };
  return Object.entries(counts).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

const n = (v: number) => v.toLocaleString('en-US');

/** The end-of-sync report printed on stdout: what was written, and what it cost in requests. */
export function formatSummary(s: SyncSummary): string {
  const list = (counts: Record<string, number>) =>
    ordered(counts)
      .map(([t, c]) => `${t} ${n(c)}`)
      .join(', ');
  const lines = [
    `Sync finished in ${formatDuration(s.durationMs)}: wrote ${s.path} (${formatBytes(s.bytes)}, sync ${s.syncId})`,
    `  resources     ${n(Object.values(s.resources).reduce((a, b) => a + b, 0))} (${list(s.resources)})`,
    `  entitlements  ${n(s.entitlements)}`,
    `  grants        ${n(s.grants)}${s.grants > 0 ? ` (${list(s.grantsByType)})` : ''}`,
    `  requests      ${n(s.requests)} (floor ${n(s.requestFloor)}), retries ${n(s.retries)}, 429s ${n(s.throttled)}`,
  ];
  if (s.previousSyncIds.length > 0)
    lines.push(
      `  history       the file keeps ${s.previousSyncIds.length} earlier sync(s); \`coupa-connector diff -f ${s.path}\` shows what changed`,
    );
  for (const skipped of LISTED_RESOURCES.filter((r) => s.skippedTypes.includes(r.id))) {
    const optional = skipped.spec.optionalScope;
    lines.push(
      `  ${skipped.spec.plural} skipped` +
        (optional ? ` (no ${optional.scope} scope, or ${optional.skipFlag})` : ''),
    );
  }
  if (s.lateArrivals > 0)
    lines.push(
      `  ${n(s.lateArrivals)} group(s)/role(s) created during the sync were included from user records`,
    );
  return lines.join('\n') + '\n';
}
