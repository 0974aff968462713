import type { KubeConfig } from "@kubernetes/client-node";
import { isApiException } from "./library.ts";
import { DigestpinError, isDigestpinError } from "../errors.ts";

/** The API server could not be used: unreachable, credentials refused, or an error answer. */
export class KubeApiError extends DigestpinError {
  /** The HTTP status the API server answered with; undefined when it could not be reached. */
  readonly status: number | undefined;

  constructor(code: string, message: string, status?: number, options?: ErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}

/** `https://host:port (context "name")`: which API server a kubeconfig leads to, for messages. */
export function apiServerOf(kubeConfig: KubeConfig): string {
  const server = kubeConfig.getCurrentCluster()?.server ?? "(no server)";
  const context = kubeConfig.getCurrentContext() as string | undefined;
  return context === undefined || context === "" || context === "inClusterContext"
    ? server
    : `${server} (kubeconfig context "${context}")`;
}

/**
 * What went wrong talking to the API server, in one line that says what to do: a transport
 * failure names the server and context; 401 and 403 say whose credentials and what was refused;
 * other answers carry the API server's own message. A DigestpinError is returned as it is.
 */
export function explainKubeError(error: unknown, kubeConfig: KubeConfig, doing: string): Error {
  if (isDigestpinError(error)) return error;
  const server = apiServerOf(kubeConfig);
  if (isApiException(error)) {
    const status = error.code;
    const said = statusMessage(error.body);
    if (status === 401) {
      return new KubeApiError(
        "ERR_KUBE_UNAUTHORIZED",
        `the API server ${server} did not accept the credentials (401 Unauthorized) to ${doing}; log in again or check the kubeconfig's user`,
        status,
        { cause: error },
      );
    }
    if (status === 403) {
      return new KubeApiError(
        "ERR_KUBE_FORBIDDEN",
        `not allowed to ${doing} on ${server} (403 Forbidden${said === "" ? "" : `: ${said}`}); ask for that permission or use another context`,
        status,
        { cause: error },
      );
    }
    return new KubeApiError(
      "ERR_KUBE_API",
      `the API server ${server} answered ${String(status)} to ${doing}${said === "" ? "" : `: ${said}`}`,
      status,
      { cause: error },
    );
  }
  return new KubeApiError(
    "ERR_KUBE_UNREACHABLE",
    `cannot reach the API server ${server} to ${doing}: ${transportProblem(error)}. Check that the cluster is up and that --kubeconfig (or $KUBECONFIG) names it`,
    undefined,
    { cause: error },
  );
}

const TRANSPORT_RETRIES_MS = [100, 400];

/**
 * Runs `call` again when the request never got an answer (the connection was reset or refused,
 * or timed out connecting): an API server under load, or one restarting, drops connections,
 * and client-go retries such requests too. Only for calls that are safe to repeat: reads, and
 * writes made conditional by a resourceVersion or a name (a repeat then gets a 409). Answers,
 * errors included, are returned or thrown as they are.
 */
export async function retryTransport<T>(call: () => Promise<T>): Promise<T> {
  for (const delayMs of TRANSPORT_RETRIES_MS) {
    try {
      return await call();
    } catch (error) {
      if (isApiException(error) || isDigestpinError(error) || timedOut(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  return call();
}

/** The request's own time budget ran out (kubectl's --request-timeout): not retried. */
function timedOut(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "TimeoutError";
}

/** The reason of a failed request, from undici's `fetch failed` and its cause. */
function transportProblem(error: unknown): string {
  if (timedOut(error)) return "no answer within the request timeout";
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host name lookup failed",
    ETIMEDOUT: "timed out",
    EHOSTUNREACH: "host unreachable",
    UND_ERR_CONNECT_TIMEOUT: "timed out connecting",
  };
  if (code !== undefined && known[code] !== undefined) return known[code];
  const message =
    typeof cause?.message === "string"
      ? cause.message
      : error instanceof Error
        ? error.message
        : String(error);
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}

/** The `message` of a metav1.Status body, if the body is one. */
function statusMessage(body: unknown): string {
  try {
    const parsed: unknown = typeof body === "string" ? JSON.parse(body) : body;
    const message = (parsed as { message?: unknown } | null)?.message;
    return typeof message === "string" ? message : "";
  } catch {
    return "";
  }
}
