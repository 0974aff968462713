import { DigestpinError } from "../errors.ts";
import { parseDuration } from "../policy/index.ts";
import { canonicalOf, parseReference } from "../reference/index.ts";
import { Resolver, type ManifestAnswer } from "../registry/index.ts";
import { readCommandArgs, usageError, type CliIO, type Command } from "./command.ts";
import {
  cliRegistryError,
  keychainFromFlags,
  registriesFromFlags,
  registryOptions,
  registryOptionsUsage,
} from "./registry-flags.ts";

const usage = `Usage: digestpin resolve REF… [options]

Asks each image's registry which digest it serves for the reference right now, as a node
pulling it would (HEAD of the manifest, an index digest for a multi-platform image). Prints one
digest per line, in argument order; a reference that fails is reported on stderr (with --json
also as {"input","error"}) and the others are still resolved.

Options:
  --json                      One JSON object per line: input, canonical, digest, mediaType,
                              size, platforms
  --platform OS/ARCH[/VAR]    Print the digest of that platform's manifest instead
  --verify                    Download and hash each manifest instead of trusting the header
  --timeout DURATION          Per-reference budget (default 30s)
${registryOptionsUsage}  -h, --help                  Show this help.

Exit status: 0 when every reference resolved, 1 when one failed, 2 on a usage error.
`;

/** `digestpin resolve REF…`: what the registry serves for a tag right now. */
export const resolveCommand: Command = {
  name: "resolve",
  summary: "Print the digest a registry serves for each image reference",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    resolveCommand,
    args,
    {
      json: { type: "boolean" },
      platform: { type: "string" },
      verify: { type: "boolean" },
      timeout: { type: "string", default: "30s" },
      ...registryOptions,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const timeout = parseDuration(values.timeout);
  if (positionals.length === 0 || !timeout.ok) {
    return usageError(
      resolveCommand,
      io,
    )(timeout.ok ? "no image reference given" : timeout.problem);
  }
  const resolver = new Resolver({ registries: await registriesFromFlags(values), cacheTtlMs: 0 });
  try {
    const keychain = await keychainFromFlags(values, io.env);
    let failed = 0;
    // Every reference is tried; each failure is reported on its own line.
    for (const input of positionals) {
      try {
        const reference = parseReference(input);
        const answer = await resolver.resolve(reference, {
          keychain,
          deadline: Date.now() + timeout.ms,
          verify: values.verify === true,
          platforms: values.json === true || values.platform !== undefined,
        });
        const digest =
          values.platform === undefined ? answer.digest : platformDigest(answer, values.platform);
        io.stdout(
          values.json === true
            ? `${JSON.stringify(answerFields(input, canonicalOf(reference), answer, digest))}\n`
            : `${digest}\n`,
        );
      } catch (thrown) {
        const error = cliRegistryError(thrown);
        failed++;
        if (values.json === true)
          io.stdout(`${JSON.stringify({ input, error: messageOf(error) })}\n`);
        io.stderr(`digestpin resolve: ${input}: ${messageOf(error)}\n`);
      }
    }
    if (failed > 0 && positionals.length > 1)
      io.stderr(`${String(failed)} of ${String(positionals.length)} references failed\n`);
    return failed > 0 ? 1 : 0;
  } finally {
    await resolver.close();
  }
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

function platformDigest(answer: ManifestAnswer, platform: string): string {
  if (answer.platforms === undefined || answer.platforms.length === 0) return answer.digest;
  const match = answer.platforms.find((p) => p.platform === platform);
  if (match === undefined) {
    const offered = answer.platforms.map((p) => p.platform).join(", ");
    throw new DigestpinError(
      "ERR_NO_PLATFORM",
      `the image has no ${platform} manifest (it has ${offered})`,
    );
  }
  return match.digest;
}

function answerFields(input: string, canonical: string, answer: ManifestAnswer, digest: string) {
  return {
    input,
    canonical,
    digest,
    mediaType: answer.mediaType,
    size: answer.size,
    platforms: answer.platforms ?? [],
  };
}
