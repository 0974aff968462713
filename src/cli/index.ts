// The command line: `digestpin <command>` and the kubectl plugin, one file or folder per
// command (diff/, check/, pin/ for pin and approve), with the option groups they share.
export { dispatch } from "./dispatch.ts";
export type { CliIO } from "./command.ts";
