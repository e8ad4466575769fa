// Kubernetes manifests as text (YAML, multi-document, or JSON) → the Service,
// EndpointSlice and Node objects in them, flattening `List` kinds. Pure: the
// caller reads the files.

import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { list, record, str } from './raw.ts';
import type { Warning } from './types.ts';

/** The objects `plan` and tests work with, grouped by kind. */
export interface Manifests {
  services: V1Service[];
  endpointSlices: V1EndpointSlice[];
  nodes: V1Node[];
}

/** An empty collection. */
export function emptyManifests(): Manifests {
  return { services: [], endpointSlices: [], nodes: [] };
}

function addObject(out: Manifests, obj: unknown, where: string, warnings: Warning[], depth = 0): void {
  const o = record(obj);
  if (!o) return;
  const kind = str(o.kind) ?? '';
  const apiVersion = str(o.apiVersion) ?? '';
  const items = list(o.items);
  if (kind.endsWith('List') && items && depth < 4) {
    items.forEach((item, i) => addObject(out, item, `${where} items[${i}]`, warnings, depth + 1));
    return;
  }
  if (kind === 'Service' && apiVersion === 'v1') out.services.push(o);
  else if (kind === 'Node' && apiVersion === 'v1') out.nodes.push(o);
  else if (kind === 'EndpointSlice') {
    if (apiVersion === 'discovery.k8s.io/v1') out.endpointSlices.push(o as unknown as V1EndpointSlice);
    else warnings.push({ object: where, field: 'apiVersion', message: `EndpointSlice ${JSON.stringify(apiVersion)} is not discovery.k8s.io/v1; ignoring it` });
  }
  // Other kinds (Deployments, ConfigMaps, ...) are not ours to read; skip them quietly.
}

/**
 * Adds the objects in `text` to `out`. Never throws: a document that is not
 * valid YAML gives a warning naming `source` and the document's index, and the
 * other documents are still read.
 */
export function parseManifests(text: string, source: string, out: Manifests, warnings: Warning[]): void {
  // JSON (`kubectl get -o json`) is read by JSON.parse: the YAML parser took
  // 7.6 s for a 13 MB list of 4,000 objects, and minutes for 20,000. Text that
  // is not valid JSON goes to the YAML parser, which explains what is wrong.
  if (/^\s*[{[]/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value !== undefined) {
      addObject(out, value, source, warnings);
      return;
    }
  }
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text);
  } catch (err) {
    warnings.push({ object: source, field: '(file)', message: `cannot parse: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  const all = Array.isArray(docs) ? docs : [];
  all.forEach((doc, i) => {
    const where = all.length > 1 ? `${source} document ${i + 1}` : source;
    if (doc.errors.length > 0) {
      warnings.push({ object: where, field: '(document)', message: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]!}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      warnings.push({ object: where, field: '(document)', message: `cannot read: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    addObject(out, value, where, warnings);
  });
}
