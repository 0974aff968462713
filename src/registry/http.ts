import { request, type Dispatcher } from "undici";
import { RegistryError } from "./errors.ts";

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Dispatcher.ResponseData["body"];
}

export interface HttpRequest {
  readonly method: "GET" | "HEAD" | "POST";
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

/**
 * One HTTP exchange with a registry (or its token realm) on undici. Transport failures become
 * RegistryErrors with a code an operator can act on; status codes are left to the caller.
 * Redirects are not followed here: the caller decides whether the target is allowed.
 */
export async function send(
  dispatcher: Dispatcher,
  registry: string,
  req: HttpRequest,
): Promise<HttpResponse> {
  try {
    const response = await request(req.url, {
      dispatcher,
      method: req.method,
      headers: { "user-agent": "digestpin", ...req.headers },
      body: req.body ?? null,
      signal: req.signal,
    });
    return { status: response.statusCode, headers: flatten(response.headers), body: response.body };
  } catch (error) {
    throw transportError(registry, req.url, error, req.signal);
  }
}

/** Reads a response body, refusing more than `limit` bytes (a hostile or endless body). */
export async function readCapped(
  registry: string,
  response: HttpResponse,
  limit: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const declared = Number(response.headers["content-length"] ?? NaN);
  if (declared > limit) {
    response.body.destroy();
    throw tooLarge(registry, limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        response.body.destroy();
        throw tooLarge(registry, limit);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw transportError(registry, undefined, error, signal);
  }
  return Buffer.concat(chunks, size);
}

/** Drains and discards a body so the connection can be reused. */
export async function discard(response: HttpResponse): Promise<void> {
  await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}

function tooLarge(registry: string, limit: number): RegistryError {
  return new RegistryError(
    "ERR_MANIFEST_TOO_LARGE",
    registry,
    `manifest is larger than ${Math.round(limit / 1024)} KiB; refusing to read it`,
  );
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|HOSTNAME_MISMATCH)/;
const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

function transportError(
  registry: string,
  url: URL | undefined,
  error: unknown,
  signal: AbortSignal,
): RegistryError {
  if (error instanceof RegistryError) return error;
  const where = url === undefined ? registry : url.origin;
  const cause = (error ?? {}) as {
    code?: string;
    name?: string;
    message?: string;
    cause?: unknown;
  };
  const code = cause.code ?? (cause.cause as { code?: string } | undefined)?.code ?? "";
  if (
    signal.aborted ||
    cause.name === "AbortError" ||
    cause.name === "TimeoutError" ||
    TIMEOUT_CODES.has(code)
  ) {
    return new RegistryError("ERR_REGISTRY_TIMEOUT", registry, `${where} did not answer in time`, {
      cause: error,
    });
  }
  if (cause.cause instanceof RegistryError) return cause.cause;
  if (TLS_CODES.test(code)) {
    return new RegistryError(
      "ERR_REGISTRY_TLS",
      registry,
      `TLS with ${where} failed (${code}); if it uses a private CA, set its "ca" in the policy's registries`,
      { cause: error },
    );
  }
  return new RegistryError(
    "ERR_REGISTRY_UNREACHABLE",
    registry,
    `cannot reach ${where}: ${code !== "" ? code : (cause.message ?? String(error))}`,
    { cause: error },
  );
}

function flatten(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    result[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return result;
}
