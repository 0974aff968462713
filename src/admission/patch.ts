/** One RFC 6902 operation; digestpin only replaces images and adds an annotation. */
export interface PatchOperation {
  readonly op: "add" | "replace";
  readonly path: string;
  readonly value: unknown;
}

/** Escapes one JSON-pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function pointerSegment(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * Sets the annotation `key` on the object's metadata, creating the map (or the metadata) when
 * absent or not a map, so the patch always applies.
 */
export function setAnnotation(object: unknown, key: string, value: string): PatchOperation[] {
  switch (annotationPlace(object)) {
    case "metadata":
      return [{ op: "add", path: "/metadata", value: { annotations: { [key]: value } } }];
    case "annotations":
      return [{ op: "add", path: "/metadata/annotations", value: { [key]: value } }];
    case "key":
      return [{ op: "add", path: `/metadata/annotations/${pointerSegment(key)}`, value }];
  }
}

/**
 * What setAnnotation adds to the object: its metadata (none, or not a map), its annotations
 * map (none, or not a map), or only the key (the map is there).
 */
export function annotationPlace(object: unknown): "metadata" | "annotations" | "key" {
  const metadata = isMap(object) ? object.metadata : undefined;
  if (!isMap(metadata)) return "metadata";
  return isMap(metadata.annotations) ? "key" : "annotations";
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The annotation's current value, if the object has one. */
export function annotationOf(object: unknown, key: string): string | undefined {
  const annotations = (
    object as { metadata?: { annotations?: Record<string, unknown> } } | undefined
  )?.metadata?.annotations;
  const value = annotations?.[key];
  return typeof value === "string" ? value : undefined;
}

export function encodePatch(operations: readonly PatchOperation[]): string {
  return Buffer.from(JSON.stringify(operations)).toString("base64");
}
