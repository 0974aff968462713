import { parseArgs } from "node:util";
import { viewOf } from "../policy/policy-store.ts";
import { isDigest, pinKeyOf, tryParseReference } from "../reference/index.ts";
import { EXIT_USAGE, type CliIO, type Command } from "./command.ts";
import { compareImages } from "./diff-compare.ts";
import { headerLines, platformLines } from "./diff-report.ts";
import { lookupOptions, lookupUsage, openRegistrySession } from "./pin-registry.ts";
import {
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "./policy-target.ts";

const usage = `Usage: digestpin diff REF [options]

Compares a pinned tag with what its registry serves now: the index digests, and for each
platform the manifest and config digests, the image's created time, and the layers that are
unchanged, added or removed, with their sizes. This is the review before 'digestpin approve'.

Options:
  --digest DIGEST             Compare with this digest instead of what the registry serves
${policyTargetUsage}${lookupUsage}  -h, --help                  Show this help.

Exit status: 0 when the registry serves the pinned digest, 1 when the tag moved, 2 when the
comparison could not be made (a usage error, the tag not pinned, a registry failure).
`;

/** `digestpin diff REF`: the pinned image against the one the tag points to now. */
export const diffCommand: Command = {
  name: "diff",
  summary: "Show how a pinned tag's image differs from what the registry serves now",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        digest: { type: "string" },
        help: { type: "boolean", short: "h" },
        ...policyTargetOptions,
        ...lookupOptions,
      },
    });
  } catch (error) {
    io.stderr(`digestpin diff: ${(error as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(usage);
    return 0;
  }
  const fail = (message: string, withUsage = false): number => {
    io.stderr(`digestpin diff: ${message}\n${withUsage ? `\n${usage}` : ""}`);
    return EXIT_USAGE;
  };
  const [input, ...extra] = positionals;
  if (input === undefined || extra.length > 0)
    return fail("give exactly one image reference", true);
  const reference = tryParseReference(input);
  if (!reference.ok) return fail(reference.error.message);
  const key = pinKeyOf(reference.reference);
  if (key === null || reference.reference.digest !== null)
    return fail(`${input}: name a tag (name:tag)`);
  if (values.digest !== undefined && !isDigest(values.digest))
    return fail(`--digest ${values.digest} is not a digest`);
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return fail(store, true);
  const session = await openRegistrySession(values, io.env);
  if (typeof session === "string") return fail(session, true);
  try {
    const pin = viewOf(await store.read()).policy.pins.get(key);
    if (pin === undefined)
      return fail(
        `${key} is not pinned in ${store.description}; pin it with 'digestpin pin ${key}'`,
      );
    const current = values.digest ?? (await session.resolve(reference.reference)).digest;
    io.stdout(`${headerLines(pin, current).join("\n")}\n`);
    if (current === pin.digest) return 0;
    const [before, after] = await Promise.allSettled([
      session.details(reference.reference, pin.digest),
      session.details(reference.reference, current),
    ]);
    if (after.status === "rejected") throw after.reason;
    if (before.status === "rejected") {
      io.stdout(
        `\nthe pinned image cannot be read from the registry: ${(before.reason as Error).message}\n`,
      );
      const none = { digest: pin.digest, mediaType: "", index: false, images: [] };
      io.stdout(`${platformLines(compareImages(none, after.value)).join("\n")}\n`);
      return 1;
    }
    io.stdout(`${platformLines(compareImages(before.value, after.value)).join("\n")}\n`);
    return 1;
  } catch (error) {
    reportPolicyError("diff", error, io);
    return EXIT_USAGE;
  } finally {
    await session.close();
  }
}
