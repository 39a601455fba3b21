/**
 * Coupa's `fields` projection: strings pick attributes, objects pick associations with their own
 * list, nested at any depth, e.g. `["id","login",{"roles":["id","name"]}]`. Sent as JSON in the
 * query string; trimming pages to what the sync needs makes them several times smaller.
 */
export type FieldSpec = Array<string | Record<string, FieldSpec>>;

export function serializeFields(fields: FieldSpec): string {
  return JSON.stringify(fields);
}
