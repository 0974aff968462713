import type { V1ConfigMap } from "@kubernetes/client-node";

/** Field managers of tools that put a ConfigMap back as their source says at the next sync. */
const SYNCING_MANAGERS = new Map([
  ["helm", "Helm"],
  ["argocd", "Argo CD"],
  ["argocd-controller", "Argo CD"],
  ["argocd-application-controller", "Argo CD"],
  ["kustomize-controller", "Flux"],
  ["helm-controller", "Flux"],
]);

/**
 * The tool that owns a ConfigMap, when one does: Helm (its label or release annotation), Argo
 * CD (its tracking annotation or label), Flux (its labels), or a field manager of theirs. An
 * edit by digestpin there would be undone at the next upgrade or sync, so digestpin makes none.
 * undefined: people edit it (kubectl), and digestpin may change its pins in place.
 */
export function managedBy(configMap: V1ConfigMap): string | undefined {
  const labels = configMap.metadata?.labels ?? {};
  const annotations = configMap.metadata?.annotations ?? {};
  if (
    labels["app.kubernetes.io/managed-by"] === "Helm" ||
    "meta.helm.sh/release-name" in annotations
  )
    return "Helm";
  if ("argocd.argoproj.io/tracking-id" in annotations || "argocd.argoproj.io/instance" in labels)
    return "Argo CD";
  if (Object.keys(labels).some((key) => key.endsWith(".toolkit.fluxcd.io/name"))) return "Flux";
  for (const field of configMap.metadata?.managedFields ?? []) {
    const tool = SYNCING_MANAGERS.get(field.manager ?? "");
    if (tool !== undefined) return tool;
  }
  return undefined;
}
