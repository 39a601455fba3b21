import type { Grant } from './messages.js';
import { C1zWriteError } from './errors.js';

/**
 * A hand-written protobuf encoder for the one grant shape every sync writes millions of times
 * (principal = a bare user id, no annotations). The generic encoder walks the message
 * reflectively; this writes the few bytes directly, after the entitlement field the writer
 * caches per entitlement. Any other grant shape returns undefined and takes the generic path.
 */

/** Proto3 wire encoding of `Grant{principal: {id: {type, id}}, id}` after a prebuilt field 1. */
export function encodeSimpleGrantTail(g: Grant): ((head: Uint8Array) => Uint8Array) | undefined {
  const p = g.principal;
  const pid = p?.id;
  if (
    !p ||
    !pid ||
    g.annotations.length !== 0 ||
    g.sources !== undefined ||
    p.parentResourceId !== undefined ||
    p.displayName !== '' ||
    p.annotations.length !== 0 ||
    p.description !== '' ||
    p.batonResource ||
    p.externalId !== undefined ||
    p.creationSource !== 0 ||
    pid.batonResource ||
    hasUnknown(g) ||
    hasUnknown(p) ||
    hasUnknown(pid)
  ) {
    return undefined;
  }
  return (head) => {
    const typeLen = Buffer.byteLength(pid.resourceType);
    const idLen = Buffer.byteLength(pid.resource);
    const grantIdLen = Buffer.byteLength(g.id);
    const ridLen = field(typeLen) + field(idLen);
    const resLen = ridLen > 0 ? 1 + varintSize(ridLen) + ridLen : 0;
    const size = head.length + (1 + varintSize(resLen) + resLen) + field(grantIdLen);
    const buf = Buffer.allocUnsafe(size);
    buf.set(head, 0);
    let pos = head.length;
    pos = writeTagLen(buf, pos, 0x12, resLen);
    if (ridLen > 0) pos = writeTagLen(buf, pos, 0x0a, ridLen);
    if (typeLen > 0) pos = writeString(buf, writeTagLen(buf, pos, 0x0a, typeLen), pid.resourceType);
    if (idLen > 0) pos = writeString(buf, writeTagLen(buf, pos, 0x12, idLen), pid.resource);
    if (grantIdLen > 0) pos = writeString(buf, writeTagLen(buf, pos, 0x1a, grantIdLen), g.id);
    if (pos !== size)
      throw new C1zWriteError(`Internal error encoding grant ${g.id}: ${pos} of ${size} bytes.`);
    return buf;
  };
}

/** Bytes of a length-delimited field with a one-byte tag; proto3 omits empty strings. */
const field = (len: number) => (len === 0 ? 0 : 1 + varintSize(len) + len);

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeTagLen(buf: Buffer, pos: number, tag: number, len: number): number {
  buf[pos++] = tag;
  while (len >= 0x80) {
    buf[pos++] = (len & 0x7f) | 0x80;
    len = Math.floor(len / 128);
  }
  buf[pos++] = len;
  return pos;
}

function writeString(buf: Buffer, pos: number, value: string): number {
  return pos + buf.write(value, pos, 'utf8');
}

function hasUnknown(m: { $unknown?: unknown[] }): boolean {
  return m.$unknown !== undefined && m.$unknown.length > 0;
}
