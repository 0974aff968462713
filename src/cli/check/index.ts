// `digestpin check`: the webhook's verdicts on manifests, offline, for CI: a table, each
// denial's reason, the exit status, and `--fix` writing digests back into the files.
export { checkCommand } from "./check.ts";
