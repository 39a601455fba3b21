/**
 * The report page: one HTML file with its styles, script and data inline. It loads nothing: a
 * Content-Security-Policy forbids any fetch, so the page cannot leak the data it holds even when
 * opened on a machine with network access.
 */
import { CLIENT_JS } from './client.js';
import type { ReportData } from './data.js';

const CSS = `
:root { --fg:#1d2330; --muted:#5d6677; --line:#dde1e8; --bg:#f6f7f9; --accent:#1f5fbf; --warn:#a4461b; --ok:#1d7a3e; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--fg); background:var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:14px 24px 0; }
header h1 { margin:0; font-size:20px; }
header .meta { color:var(--muted); font-size:12px; margin:2px 0 10px; }
nav#tabs { display:flex; gap:4px; flex-wrap:wrap; }
nav#tabs a { padding:7px 12px; border:1px solid transparent; border-bottom:none; border-radius:6px 6px 0 0; color:var(--fg); text-decoration:none; }
nav#tabs a[aria-current] { background:var(--bg); border-color:var(--line); font-weight:600; }
main { padding:16px 24px 40px; max-width:1400px; }
h2 { font-size:17px; margin:18px 0 8px; }
h3 { font-size:15px; margin:16px 0 6px; }
a { color:var(--accent); }
.muted { color:var(--muted); font-weight:normal; font-size:13px; }
.figures { display:flex; flex-wrap:wrap; gap:10px; }
.figure { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 14px; min-width:120px; color:inherit; text-decoration:none; }
a.figure:hover { border-color:var(--accent); }
.figure .value { font-size:22px; font-weight:600; }
.figure .label { color:var(--muted); font-size:12px; }
table { border-collapse:collapse; width:100%; background:#fff; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f5; font-weight:600; white-space:nowrap; cursor:pointer; user-select:none; position:sticky; top:0; }
th[aria-sort=ascending]::after { content:" ▲"; font-size:10px; }
th[aria-sort=descending]::after { content:" ▼"; font-size:10px; }
table.plain { width:auto; min-width:420px; }
table.plain th { cursor:default; }
.num { text-align:right; font-variant-numeric:tabular-nums; }
td.empty { color:var(--muted); font-style:italic; }
.table { margin:8px 0 18px; }
.table .controls { display:flex; gap:12px; align-items:center; margin-bottom:6px; flex-wrap:wrap; }
.table input[type=search] { padding:6px 8px; width:320px; max-width:100%; border:1px solid var(--line); border-radius:6px; }
.table .count { color:var(--muted); }
.table .pager button { margin:0 2px; padding:3px 8px; }
.table .scroll { overflow-x:auto; border:1px solid var(--line); border-radius:6px; }
.badge { display:inline-block; padding:0 6px; border-radius:9px; font-size:12px; background:#e8ebf0; }
.status-enabled { background:#e2f3e8; color:var(--ok); }
.status-disabled, .status-deleted { background:#fbe9e1; color:var(--warn); }
.note { background:#fff8e5; border:1px solid #f0dfb0; padding:6px 10px; border-radius:6px; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:3px 16px; background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 14px; max-width:760px; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; }
.subnav a { margin-right:14px; }
.subnav a.current { font-weight:600; }
.crumbs { margin:4px 0 0; color:var(--muted); }
.flags ul { display:inline; padding:0; margin:0; }
.flags li { display:inline; margin-right:12px; }
#report-error { background:#fde2e2; border:1px solid #e4a0a0; color:#7a1010; padding:10px 14px; margin:12px 24px; border-radius:6px; }
@media print { nav#tabs, .controls { display:none; } th { position:static; } }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON inside a script element: `<` is written as \u003c so no name or login can close the element
 * (`</script>`) or open a comment; the parser reads the escape back as the same character.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderReportHtml(data: ReportData): string {
  const sync = data.sync
    ? `sync ${data.sync.id}, ${data.sync.endedAt ? `finished ${data.sync.endedAt}` : `started ${data.sync.startedAt}, never finished`}`
    : 'no sync run recorded';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="generator" content="coupa-connector report">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}</style>
</head>
<body data-state="loading">
<header>
<h1>${escapeHtml(data.title)}</h1>
<div class="meta">${escapeHtml(data.file)} · ${escapeHtml(sync)} · generated ${escapeHtml(data.generatedAt)}</div>
<nav id="tabs" aria-label="Report sections"></nav>
</header>
<div id="report-error" role="alert" hidden></div>
<main id="app"><noscript>This report needs JavaScript to draw its tables; the data is embedded in this file.</noscript></main>
<script type="application/json" id="report-data">${embedJson(data)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}
