import { approveCommand } from "./approve.ts";
import { certsCommand } from "./certs.ts";
import { checkCommand } from "./check.ts";
import type { Command } from "./command.ts";
import { diffCommand } from "./diff.ts";
import { parseCommand } from "./parse.ts";
import { pinCommand } from "./pin.ts";
import { policyCommand } from "./policy.ts";
import { resolveCommand } from "./resolve.ts";
import { serveCommand } from "./serve.ts";

/** Every subcommand, in the order `digestpin --help` lists them. */
export const commands: readonly Command[] = [
  serveCommand,
  parseCommand,
  resolveCommand,
  policyCommand,
  pinCommand,
  diffCommand,
  approveCommand,
  checkCommand,
  certsCommand,
];
