// What a list or watch request selects: a namespace (from the path) plus label
// and field selectors (from the query). Parse errors become 400 BadRequest, as
// in kube-apiserver.

import { matchesFields, parseFieldSelector } from './field-selector.ts';
import { SelectorError, matchesLabels, parseLabelSelector } from './label-selector.ts';
import { badRequest } from './status.ts';
import { type KubeObject, type ResourceInfo, isJsonObject, metaOf, metaString } from './types.ts';

/** A predicate over stored objects. */
export type ObjectFilter = (o: KubeObject) => boolean;

/** The labels of an object as a string map (non-string values ignored). */
export function labelsOf(o: KubeObject): Record<string, string> {
  const l = metaOf(o).labels;
  const out: Record<string, string> = {};
  if (!isJsonObject(l)) return out;
  for (const [k, v] of Object.entries(l)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Builds the filter for a request. Throws ApiError 400 when a selector does not
 * parse or names an unsupported field. `namespace` '' means all namespaces.
 */
export function buildFilter(r: ResourceInfo, namespace: string, labelSelector: string, fieldSelector: string): { filter: ObjectFilter; selective: boolean } {
  try {
    const labels = parseLabelSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector, r.fields);
    const filter: ObjectFilter = (o) =>
      (namespace === '' || metaString(o, 'namespace') === namespace) &&
      matchesLabels(labels, labelsOf(o)) &&
      matchesFields(fields, o, r.fields);
    return { filter, selective: labels.length > 0 || fields.length > 0 };
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}
