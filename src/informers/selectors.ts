// The server-side filters kube-proxy's informers use, so objects another proxy
// owns and headless Services are never even sent to us.

/** Services and EndpointSlices labelled with either key are not ours (kube-proxy's `labelSelector`). */
export const KUBE_PROXY_LABEL_SELECTOR = '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';

/** The field selector that watches only this node's Node object. */
export function nodeFieldSelector(nodeName: string): string {
  // Field-selector values escape `\`, `,` and `=`; node names never contain them,
  // but a bad --hostname-override must not widen the selector.
  return `metadata.name=${nodeName.replace(/[\\,=]/g, (c) => `\\${c}`)}`;
}
