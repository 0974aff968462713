import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "./kube.ts";
import type { Teardown } from "./lifecycle.ts";

/** The hooks of ava's `test` that a suite-wide control plane needs. */
export interface SuiteHooks {
  before(fn: () => Promise<void>): void;
  after: { always(fn: () => Promise<void>): void };
}

/**
 * One control plane for every test in a file (ava runs each file in its own process): started
 * in `test.before`, stopped in `test.after.always`. Tests call the returned function and take
 * their own namespace with `controlPlane().namespace(t)`.
 *
 *     const controlPlane = sharedControlPlane(test);
 *     test("...", async (t) => { const ns = await controlPlane().namespace(t); ... });
 */
export function sharedControlPlane(
  test: SuiteHooks,
  options: ControlPlaneOptions = {},
): () => ControlPlane {
  const suite = teardownList();
  let shared: ControlPlane | undefined;
  test.before(async () => {
    shared = await startControlPlane(suite, options);
  });
  test.after.always(() => suite.run());
  return () => {
    if (shared === undefined) throw new Error("the shared control plane did not start");
    return shared;
  };
}

/** A `Teardown` that collects functions and runs them, last registered first, on `run()`. */
export function teardownList(): Teardown & { run(): Promise<void> } {
  const fns: (() => Promise<void> | void)[] = [];
  return {
    teardown(fn) {
      fns.push(fn);
    },
    async run() {
      const errors: unknown[] = [];
      for (const fn of fns.splice(0).reverse()) {
        try {
          await fn();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, "teardown failed");
    },
  };
}
