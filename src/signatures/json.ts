/** Reading untrusted JSON and base64 from a registry without throwing. */

export type JsonObject = Readonly<Record<string, unknown>>;

/** The object `text` holds, or undefined when it is not JSON or not an object. */
export function parseObject(text: Uint8Array | string): JsonObject | undefined {
  try {
    return asObject(
      JSON.parse(typeof text === "string" ? text : Buffer.from(text).toString("utf8")),
    );
  } catch {
    return undefined;
  }
}

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

export function stringAt(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === "string" ? value : undefined;
}

export function objectAt(object: JsonObject | undefined, key: string): JsonObject | undefined {
  return asObject(object?.[key]);
}

export function arrayAt(object: JsonObject | undefined, key: string): readonly unknown[] {
  const value = object?.[key];
  return Array.isArray(value) ? value : [];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes of standard base64 `text` (padded, as cosign and protobuf JSON write it), or
 * undefined when it is anything else: Buffer.from would silently skip what is not base64.
 */
export function decodeBase64(text: string | undefined): Buffer | undefined {
  if (text === undefined || text === "" || !BASE64.test(text)) return undefined;
  return Buffer.from(text, "base64");
}
