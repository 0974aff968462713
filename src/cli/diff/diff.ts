import { describePrefix } from "../../layers/index.ts";
import { viewOf } from "../../pins/index.ts";
import { isDigest, pinKeyOf, tryParseReference } from "../../reference/index.ts";
import { chainLines, type BaseChain } from "../base-chain.ts";
import { EXIT_USAGE, readCommandArgs, type CliIO, type Command } from "../command.ts";
import { fileDiffOptions } from "../options.ts";
import { DEFAULT_NAMESPACE } from "../../policy/index.ts";
import {
  openKubeConfig,
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "../policy-target.ts";
import { lookupOptions, lookupUsage, openRegistrySession } from "../registry-access.ts";
import { compareImages } from "./compare.ts";
import { DownloadCap, parseSize } from "./download-cap.ts";
import { downloadProgress } from "./download-progress.ts";
import { hasFiles, reportedChange, reportedLines, type ReportedChange } from "./drift-report.ts";
import { filesLines } from "./files-report.ts";
import { compareFiles, type PlatformFiles } from "./files.ts";
import { diffJson } from "./json.ts";
import { headerLines, platformLines } from "./report.ts";
import { missingImage, readChains, readLayering } from "./review.ts";

const DEFAULT_MAX_DOWNLOAD = "1Gi";

const usage = `Usage: digestpin diff REF [options]

Compares a pinned tag with what its registry serves now: the index digests, and for each
platform the manifest and config digests, the image's created time, and the layers that are
unchanged, added or removed, with their sizes; whether the current image still starts with
the pinned image's layers ("base layers changed" when it does not); and the base images both
declare (org.opencontainers.image.base.*), checked against the pins. With --files, the files
too. This is the review before 'digestpin approve'.

When the webhook's drift scan already summarized this move (the report ConfigMap
digestpin-drift holds the tag with the same pin and new digest), its change is shown too,
"from the drift report, computed <time>", and --files shows the report's files instead of
downloading the layers again; --fresh compares anew.

Options:
  --digest DIGEST             Compare with this digest instead of what the registry serves
  --files                     Compare the files: stream the layers that differ (gzip, zstd or
                              plain tar; nothing is written to disk) and list the paths added
                              (+), removed (-) and changed (~): size, content, mode, owner,
                              symlink target; and the layer each change comes from
  --platform OS/ARCH[/VAR]    With --files: only this platform
  --max-download SIZE         With --files: download at most SIZE in all (default ${DEFAULT_MAX_DOWNLOAD};
                              e.g. 200Mi, 2G)
  --shared read|skip          With --files: the layers both images share are read (only when
                              a changed path's earlier state depends on them, keeping only
                              those paths) or never; skipped, such paths are marked ?
                              (default read)
  --fresh                     Do not reuse the drift report's change: with --files,
                              download the layers and compare every file
  --json                      Print one JSON document instead of text
${policyTargetUsage}${lookupUsage}  -h, --help                  Show this help.

Download progress goes to stderr. Exit status: 0 when the registry serves the pinned digest, 1
when the tag moved, 2 when the comparison could not be made (a usage error, the tag not pinned,
a registry failure, the download cap).
`;

/** `digestpin diff REF`: the pinned image against the one the tag points to now. */
export const diffCommand: Command = {
  name: "diff",
  summary: "Show how a pinned tag's image differs from what the registry serves now",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    diffCommand,
    args,
    {
      digest: { type: "string" },
      files: { type: "boolean" },
      ...fileDiffOptions,
      shared: { type: "string" },
      fresh: { type: "boolean" },
      json: { type: "boolean" },
      ...policyTargetOptions,
      ...lookupOptions,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
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
  const files = values.files === true;
  for (const flag of ["platform", "max-download", "shared"] as const) {
    if (values[flag] !== undefined && !files) return fail(`--${flag} needs --files`, true);
  }
  const maxDownload = parseSize(values["max-download"] ?? DEFAULT_MAX_DOWNLOAD);
  if (typeof maxDownload === "string") return fail(`--max-download: ${maxDownload}`);
  const shared = values.shared ?? "read";
  if (shared !== "read" && shared !== "skip") return fail(`--shared must be read or skip`);
  const json = values.json === true;
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return fail(store, true);
  const session = await openRegistrySession(values, io.env);
  if (typeof session === "string") return fail(session, true);
  const print = (lines: readonly string[]) => {
    if (!json) io.stdout(`${lines.join("\n")}\n`);
  };
  try {
    const { policy } = viewOf(await store.read());
    const pin = policy.pins.get(key);
    if (pin === undefined)
      return fail(
        `${key} is not pinned in ${store.description}; pin it with 'digestpin pin ${key}'`,
      );
    const current = values.digest ?? (await session.resolve(reference.reference)).digest;
    print(headerLines(pin, current));
    const chains = await readChains(session, reference.reference, pin.digest, current, policy.pins);
    print(["", ...basesLines(chains, pin.digest === current)]);
    const base = { key, pin, current, chains };
    if (current === pin.digest) {
      if (json) io.stdout(`${JSON.stringify(diffJson(base), null, 2)}\n`);
      return 0;
    }
    const [before, after] = await Promise.allSettled([
      session.details(reference.reference, pin.digest),
      session.details(reference.reference, current),
    ]);
    if (after.status === "rejected") throw after.reason;
    let pinnedUnreadable: string | undefined;
    if (before.status === "rejected") {
      pinnedUnreadable = (before.reason as Error).message;
      print(["", `the pinned image cannot be read from the registry: ${pinnedUnreadable}`]);
    }
    const pinnedImage = before.status === "fulfilled" ? before.value : missingImage(pin.digest);
    const comparison = compareImages(pinnedImage, after.value);
    const layering = await readLayering(session, comparison, chains.pinned);
    const reported = await reportOf(values, io, { key, pinned: pin.digest, current });
    // The report's files stand for --files unless asked anew, or for one platform only.
    const reuseFiles = files && values.platform === undefined && hasFiles(reported);
    for (const platform of comparison.platforms) {
      const finding = layering.get(platform.platform);
      print([
        ...platformLines({ same: comparison.same, platforms: [platform] }),
        ...(finding === undefined ? [] : [`  layering  ${describePrefix(finding)}`]),
      ]);
    }
    if (reported !== undefined) print(["", ...reportedLines(reported, reuseFiles)]);
    let compared: PlatformFiles[] | undefined;
    if (files && pinnedUnreadable === undefined && !reuseFiles) {
      compared = await compareFiles(session, reference.reference, comparison, {
        platform: values.platform,
        shared,
        cap: new DownloadCap(maxDownload),
        progress: downloadProgress(io.stderr, io.stderrIsTTY === true),
      });
      if (values.platform !== undefined && compared.length === 0)
        io.stderr(`digestpin diff: neither image has platform ${values.platform}\n`);
      for (const result of compared) print(["", ...filesLines(result)]);
    }
    if (json) {
      const document = diffJson({
        ...base,
        comparison,
        layering,
        ...(pinnedUnreadable !== undefined && { pinnedUnreadable }),
        ...(compared !== undefined && { files: compared }),
        ...(reported !== undefined && { reported }),
      });
      io.stdout(`${JSON.stringify(document, null, 2)}\n`);
    }
    return 1;
  } catch (error) {
    reportPolicyError("diff", error, io);
    return EXIT_USAGE;
  } finally {
    await session.close();
  }
}

/**
 * The drift report's change for this move, when the policy is the cluster's and --fresh is not
 * given (see drift-report.ts); undefined: compare as without a report.
 */
async function reportOf(
  values: Parameters<typeof openKubeConfig>[0] & { readonly fresh?: boolean | undefined },
  io: CliIO,
  query: { readonly key: string; readonly pinned: string; readonly current: string },
): Promise<ReportedChange | undefined> {
  if (values.fresh === true || values.policy !== undefined) return undefined;
  const kubeConfig = openKubeConfig(values, io.env);
  if (typeof kubeConfig === "string") return undefined;
  return reportedChange(kubeConfig, values.namespace ?? DEFAULT_NAMESPACE, query, (message) => {
    io.stderr(`digestpin diff: ${message}\n`);
  });
}

/** The `base images` block: each image's chain (once when both are the same image). */
function basesLines(chains: { pinned: BaseChain; current: BaseChain }, same: boolean): string[] {
  const block = (label: string, chain: BaseChain) => {
    const [first = "", ...rest] = chainLines(chain, " ".repeat(11));
    return [`  ${label.padEnd(9)}${first.trimStart()}`, ...rest];
  };
  const none = (chain: BaseChain) => chain.levels.length === 0 && chain.stopped === undefined;
  if (none(chains.pinned) && none(chains.current)) {
    return ["base images: none declared (org.opencontainers.image.base.name)"];
  }
  return [
    "base images",
    ...block("pinned", chains.pinned),
    ...(same ? [] : block("current", chains.current)),
  ];
}
