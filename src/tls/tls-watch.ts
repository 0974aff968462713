import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { kubeLibrary } from "../kube/index.ts";
import type { Logger } from "../observability/index.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface NamedWatch {
  stop(): void;
}

export interface WatchByNameOptions {
  /** Collection path: `/api/v1/namespaces/NS/secrets`, `/apis/GROUP/VERSION/RESOURCE`. */
  readonly path: string;
  readonly name: string;
  readonly logger: Logger;
  /** Longest wait before reconnecting after failures (30 s). */
  readonly maxBackoffMs?: number;
}

/**
 * Watches one object by name and calls `onEvent` for each change, for as long as it runs:
 * the API server ends watches (and client-node ends idle ones after 30 s), so it reconnects
 * from the last resourceVersion seen, or afresh (an ADDED event for the current object) when
 * that is too old. Failures back off exponentially and are logged.
 */
export function watchByName(
  kubeConfig: KubeConfig,
  options: WatchByNameOptions,
  onEvent: (type: WatchEventType, object: KubernetesObject) => void,
): NamedWatch {
  const watch = new (kubeLibrary().Watch)(kubeConfig);
  const { path, name, logger } = options;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let resourceVersion: string | undefined;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopped = false;

  const reconnect = (): void => {
    if (stopped) return;
    const delay = failures === 0 ? 0 : Math.min(maxBackoffMs, 250 * 2 ** failures);
    timer = setTimeout(() => void connect(), delay);
  };
  const ended = (error: unknown): void => {
    if (stopped) return;
    if (error !== null && error !== undefined && !isIdleTimeout(error)) {
      failures += 1;
      logger.warn({ err: error, path, name }, "watch failed; reconnecting");
    }
    reconnect();
  };
  const connect = async (): Promise<void> => {
    const query = {
      fieldSelector: `metadata.name=${name}`,
      allowWatchBookmarks: true,
      ...(resourceVersion !== undefined && { resourceVersion }),
    };
    try {
      const started = await watch.watch(path, query, receive, ended);
      if (stopped) started.abort();
      else controller = started;
    } catch (error) {
      ended(error);
    }
  };
  const receive = (type: string, object: KubernetesObject | undefined): void => {
    if (stopped) return;
    failures = 0;
    if (type === "ERROR") {
      // 410 Gone: the resourceVersion is too old to resume from; list afresh.
      resourceVersion = undefined;
      return;
    }
    const version = object?.metadata?.resourceVersion;
    if (version !== undefined) resourceVersion = version;
    if (object !== undefined && (type === "ADDED" || type === "MODIFIED" || type === "DELETED")) {
      onEvent(type, object);
    }
  };

  void connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}

function isIdleTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === "TimeoutError";
}
