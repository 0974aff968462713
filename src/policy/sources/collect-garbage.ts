import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** V8's gc(), once asked for; undefined where it cannot be had. */
let gc: (() => void) | undefined | null = null;

/**
 * A full garbage collection, for the moments when one costs no review anything and gives much
 * back: during and at the end of a first load (nothing is served yet). Otherwise V8 keeps the garbage a 100,000-pin load leaves
 * (about 140 MB) until allocation pressure brings a full collection, which an idle webhook
 * never does. The function is had as jest's leak detector has it (the flag, then a context).
 */
export function collectGarbage(): void {
  if (gc === null) {
    try {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    } catch {
      gc = undefined;
    }
  }
  gc?.();
}
