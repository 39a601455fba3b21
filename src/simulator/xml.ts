/**
 * Coupa's default representation. Types are announced the Rails way (`type="integer"`,
 * `nil="true"`, `type="array"`), so a client that forgot `Accept: application/json` gets a body
 * that is plainly not JSON.
 */
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function singular(name: string): string {
  return name.endsWith('ies')
    ? `${name.slice(0, -3)}y`
    : name.endsWith('s')
      ? name.slice(0, -1)
      : `${name}-item`;
}

function element(name: string, value: unknown, indent: string): string {
  if (value === null || value === undefined) return `${indent}<${name} nil="true"/>\n`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}<${name} type="array"/>\n`;
    const child = singular(name);
    return `${indent}<${name} type="array">\n${value.map((v) => element(child, v, `${indent}  `)).join('')}${indent}</${name}>\n`;
  }
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => element(k, v, `${indent}  `))
      .join('');
    return `${indent}<${name}>\n${inner}${indent}</${name}>\n`;
  }
  if (typeof value === 'boolean') return `${indent}<${name} type="boolean">${value}</${name}>\n`;
  if (typeof value === 'number') {
    return `${indent}<${name} type="${Number.isInteger(value) ? 'integer' : 'decimal'}">${value}</${name}>\n`;
  }
  const s = String(value);
  if (TIMESTAMP.test(s)) return `${indent}<${name} type="dateTime">${s}</${name}>\n`;
  return `${indent}<${name}>${escapeXml(s)}</${name}>\n`;
}

const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function xmlRecord(elementName: string, rec: unknown): string {
  return PROLOG + element(elementName, rec, '');
}

export function xmlList(elementName: string, recs: unknown[]): string {
  const plural = `${elementName}s`;
  return `${PROLOG}<${plural} type="array">\n${recs.map((r) => element(elementName, r, '  ')).join('')}</${plural}>\n`;
}

export function xmlErrors(messages: string[]): string {
  return `${PROLOG}<errors>\n${messages.map((m) => `  <error>${escapeXml(m)}</error>\n`).join('')}</errors>\n`;
}
