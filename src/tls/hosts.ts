import { isIP } from "node:net";

/**
 * The names the API server may use for a webhook Service: it calls
 * `https://NAME.NS.svc:PORT`, and people and tools use the shorter and longer forms.
 */
export function serviceHosts(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/** The service names followed by `extra`, without duplicates, in order. */
export function certificateHosts(
  service: string,
  namespace: string,
  extra: readonly string[] = [],
): string[] {
  return [...new Set([...serviceHosts(service, namespace), ...extra.map(normalizeHost)])];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const WILDCARD_LABEL = "*";

/** Why `host` cannot be a subjectAltName, or undefined when it can (DNS name or IP address). */
export function hostProblem(host: string): string | undefined {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (isIP(bare) !== 0) return undefined;
  if (host.length === 0) return "empty host name";
  if (host.length > 253) return `host "${host}" is longer than 253 characters`;
  const labels = host.toLowerCase().split(".");
  const valid = labels.every(
    (label, index) => DNS_LABEL.test(label) || (index === 0 && label === WILDCARD_LABEL),
  );
  return valid ? undefined : `host "${host}" is neither a DNS name nor an IP address`;
}

/** Whether `name` is a Kubernetes DNS label (a Service name, a namespace). */
export function isDnsLabel(name: string): boolean {
  return DNS_LABEL.test(name);
}

function normalizeHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return isIP(bare) !== 0 ? bare : host.toLowerCase();
}
