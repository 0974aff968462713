import { quote } from "../../errors.ts";
import type { LabelSelector } from "./schema.ts";

/** Labels of a Kubernetes object, e.g. a namespace's. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Whether `selector` selects an object with `labels`, as the API server reads a
 * metav1.LabelSelector: every matchLabels pair and every expression must hold; an empty
 * selector selects everything.
 */
export function selects(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labelOf(labels, key) !== value) return false;
  }
  return selector.matchExpressions.every(({ key, operator, values }) => {
    const value = labelOf(labels, key);
    switch (operator) {
      case "In":
        return value !== undefined && values.includes(value);
      case "NotIn":
        return value === undefined || !values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
    }
  });
}

function labelOf(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.indexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && PREFIX.test(prefix));
  if (prefixOk && name.length <= 63 && NAME.test(name)) return null;
  return `${quote(key)} is not a label key ([prefix/]name, e.g. "team" or "example.com/team")`;
}

/** A label value: empty, or at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends. */
export function labelValueProblem(value: string): string | null {
  if (value === "" || (value.length <= 63 && NAME.test(value))) return null;
  return `${quote(value)} is not a label value (at most 63 letters, digits, "-", "_" and ".")`;
}
