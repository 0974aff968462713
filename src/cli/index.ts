import { certsCommand } from "./certs.ts";
import type { Command } from "./command.ts";
import { parseCommand } from "./parse.ts";
import { policyCommand } from "./policy.ts";
import { resolveCommand } from "./resolve.ts";

/** Every subcommand, in the order `digestpin --help` lists them. */
export const commands: readonly Command[] = [
  parseCommand,
  resolveCommand,
  policyCommand,
  certsCommand,
];
