// Node.js --import hook for tests: every module specifier resolved in the process is recorded
// in globalThis.__resolvedSpecifiers (to assert what a command does or does not load).
import { registerHooks } from "node:module";

const seen = new Set<string>();
(globalThis as { __resolvedSpecifiers?: Set<string> }).__resolvedSpecifiers = seen;
registerHooks({
  resolve(specifier, context, next) {
    seen.add(specifier);
    return next(specifier, context);
  },
});
