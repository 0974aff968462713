import { podTemplateOf } from "./images.ts";

/** An ownerReference with `controller: true`: who created the object and keeps it running. */
export interface ControllerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** The label that asks digestpin to validate only (judge, never rewrite) on an object or namespace. */
export const VALIDATE_ONLY_LABEL = "digestpin.dev/validate-only";

/** The controller that created `object` (its ownerReference with `controller: true`), if any. */
export function controllerOf(object: unknown): ControllerRef | undefined {
  const owners = field(field(object, "metadata"), "ownerReferences");
  if (!Array.isArray(owners)) return undefined;
  for (const owner of owners) {
    if (field(owner, "controller") !== true) continue;
    const [apiVersion, kind, name, uid] = ["apiVersion", "kind", "name", "uid"].map((key) =>
      field(owner, key),
    );
    if (typeof kind === "string" && typeof name === "string") {
      return {
        apiVersion: typeof apiVersion === "string" ? apiVersion : "",
        kind,
        name,
        uid: typeof uid === "string" ? uid : "",
      };
    }
  }
  return undefined;
}

/**
 * Whether an object asks to be validated only: the label on the object itself or, for a
 * workload, on its pod template (which its Pods inherit).
 */
export function asksValidateOnly(kind: string, object: unknown): boolean {
  const label = (meta: unknown): unknown => field(field(meta, "labels"), VALIDATE_ONLY_LABEL);
  return (
    label(field(object, "metadata")) === "true" ||
    label(field(podTemplateOf(kind, object), "metadata")) === "true"
  );
}

/** `metadata.name`, or `generateName…` for an object whose name the API server will generate. */
export function nameOf(object: unknown): string | undefined {
  const metadata = field(object, "metadata");
  const name = field(metadata, "name");
  if (typeof name === "string" && name !== "") return name;
  const generate = field(metadata, "generateName");
  return typeof generate === "string" && generate !== "" ? `${generate}…` : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
