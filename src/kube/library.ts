// The Kubernetes client library (@kubernetes/client-node), loaded on first use: importing it
// costs about 60 MB resident and half a second of start-up, which what never talks to a cluster
// does not pay.
import { createRequire } from "node:module";

type Library = typeof import("@kubernetes/client-node");

const require = createRequire(import.meta.url);
let loaded: Library | undefined;

/**
 * The library, loaded now if it was not. Node.js's require of an ES module gives the same
 * instance as `import` (so `instanceof` holds across both); a loader that compiles required ES
 * modules to CommonJS (tsx, in tests) would give a second one, so tests call loadKubeLibrary
 * first.
 */
export function kubeLibrary(): Library {
  return (loaded ??= require("@kubernetes/client-node") as Library);
}

/** The library, imported now if it was not. */
export async function loadKubeLibrary(): Promise<Library> {
  return (loaded ??= await import("@kubernetes/client-node"));
}

/** Whether `error` is the library's ApiException (an API server's error answer). */
export function isApiException(error: unknown): error is InstanceType<Library["ApiException"]> {
  return error instanceof kubeLibrary().ApiException;
}
