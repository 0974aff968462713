import { certsCommand } from "./certs.ts";
import { checkCommand } from "./check/index.ts";
import { completionCommand } from "./completion.ts";
import type { Command } from "./command.ts";
import { diffCommand } from "./diff/index.ts";
import { driftCommand } from "./drift.ts";
import { parseCommand } from "./parse.ts";
import { approveCommand, pinCommand } from "./pin/index.ts";
import { pinsCommand } from "./pins/index.ts";
import { policyCommand } from "./policy.ts";
import { resolveCommand } from "./resolve.ts";
import { serveCommand } from "./serve.ts";
import { versionCommand } from "./version.ts";

/** Every subcommand, in the order `digestpin --help` lists them. */
export const commands: readonly Command[] = [
  serveCommand,
  parseCommand,
  resolveCommand,
  policyCommand,
  pinCommand,
  diffCommand,
  approveCommand,
  pinsCommand,
  driftCommand,
  checkCommand,
  certsCommand,
  versionCommand,
  completionCommand(() => commands),
];
