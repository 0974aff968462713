import { writeFile } from "node:fs/promises";
import { applyImageFacts } from "../../admission/index.ts";
import { viewOf } from "../../pins/index.ts";
import { decideWith, type Policy, type RegistryObservation } from "../../policy/index.ts";
import { EXIT_ERROR, readCommandArgs, usageError, type CliIO, type Command } from "../command.ts";
import {
  imagePosition,
  objectsOf,
  readManifestFiles,
  type ManifestFile,
  type ManifestObject,
} from "../manifests.ts";
import { manifestOptions } from "../options.ts";
import { formatList, outputOptions, readFormat } from "../output.ts";
import {
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "../policy-target.ts";
import {
  lookupOptions,
  lookupUsage,
  mapLimited,
  openRegistrySession,
  type RegistrySession,
} from "../registry-access.ts";
import { basesReport } from "./bases.ts";
import { applyFixes, type ImageFix } from "./fix.ts";
import {
  findingList,
  findingText,
  junitReport,
  locationOf,
  sarifReport,
  severityOf,
  type Finding,
} from "./reports.ts";

const usage = `Usage: digestpin check -f PATH|- [--fix] [options]

Decides every image in Kubernetes manifests as the webhook would: YAML or JSON, several
documents per file, kind: List, every kind with a pod template (Pod, Deployment, StatefulSet,
DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate), containers, init and
ephemeral containers and image volumes. PATH is a file or a directory (every .yaml, .yml and
.json below it); - reads stdin. An object without a namespace is checked as in namespace
"default". Registries are asked as the webhook would ask them; nothing is recorded (as for a
dry run). Prints a table of findings and each denial's reason.

Options:
  -f, --filename PATH         Manifests to check; repeatable
  -o, --output FORMAT         table (default: the findings, then each denial's reason), json,
                              yaml, name (each image as admitted), junit (JUnit XML, a test
                              case per image) or sarif (SARIF 2.1.0 for code scanning: a rule per
                              reason, each result at the image's line of its manifest)
  --no-headers                No header line in the table
  --fail-on-unreachable       A registry that cannot be asked fails the check (by default an
                              image admitted at its pin without asking is a warning)
  --fix                       Rewrite the images to their digest form in place (only the
                              image strings change); with -f -, print the fixed manifests
  --bases                     Also show the base images each admitted image declares
                              (org.opencontainers.image.base.*), each checked against the pins
                              (with -o table)
${policyTargetUsage}${lookupUsage}  -h, --help                  Show this help.

Exit status (a CI gate): 0 when nothing is denied; 1 when an image is denied (or, with
--fail-on-unreachable, its registry could not be asked); 2 on a usage error, or when the policy
or a manifest cannot be read.
`;

/** `digestpin check -f PATH`: the webhook's decisions for manifests, offline. */
export const checkCommand: Command = {
  name: "check",
  summary: "Check manifests against the policy as the webhook would (a CI gate)",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    checkCommand,
    args,
    {
      ...manifestOptions,
      ...outputOptions,
      "fail-on-unreachable": { type: "boolean" },
      fix: { type: "boolean" },
      bases: { type: "boolean" },
      ...policyTargetOptions,
      ...lookupOptions,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const fail = usageError(checkCommand, io);
  if (positionals.length > 0)
    return fail(`unexpected argument "${positionals[0] ?? ""}"; give manifests with -f`);
  const paths = values.filename ?? [];
  if (paths.length === 0) return fail("no manifests given (-f PATH, or -f - for stdin)");
  const format = readFormat(values.output, ["junit", "sarif"] as const);
  if ("problem" in format) return fail(format.problem);
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return fail(store);
  const session = await openRegistrySession(values, io.env);
  if (typeof session === "string") return fail(session);
  const fixStdin = values.fix === true && paths.includes("-");
  if (fixStdin && format.format !== "table")
    return fail(`--fix with -f - prints the fixed manifests; it cannot be combined with -o`);
  const report = fixStdin ? io.stderr : io.stdout;
  const failOnUnreachable = values["fail-on-unreachable"] === true;
  try {
    const { policy } = viewOf(await store.read());
    const files = await readManifestFiles(paths, io.readStdin);
    const unreadable = files.flatMap((file) => file.errors);
    for (const error of unreadable) io.stderr(`digestpin check: ${error}\n`);
    // In the order of the files, then of the lines (init containers come first in a spec's
    // images but may be written after the containers).
    const decided = (await decideAll(files.flatMap(objectsOf), policy, session)).toSorted(
      (a, b) =>
        files.indexOf(a.object.file) - files.indexOf(b.object.file) ||
        (a.finding.line ?? 0) - (b.finding.line ?? 0),
    );
    const findings = decided.map(({ finding }) => finding);
    if (format.format === "sarif") report(sarifReport(findings, failOnUnreachable));
    else if (format.format === "junit") report(junitReport(findings, failOnUnreachable));
    else report(formatList(findings, findingList, format.format, values["no-headers"] === true));
    if (format.format === "table") {
      for (const f of findings) {
        if (severityOf(f, failOnUnreachable) !== "none")
          report(`\n${locationOf(f)} ${f.object} ${f.place}: ${findingText(f)}\n`);
      }
    }
    if (values.bases === true && format.format === "table") {
      report(
        await basesReport(
          findings.map((f) => f.decision),
          policy,
          session,
        ),
      );
    }
    const denied = findings.filter((f) => f.decision.action === "deny").length;
    const mutated = findings.filter((f) => f.decision.action === "mutate").length;
    const failed = findings.filter((f) => severityOf(f, failOnUnreachable) === "failure").length;
    const unasked = findings.filter((f) => f.registryFailure !== undefined).length;
    io.stderr(
      `\n${findings.length} images: ${denied} denied, ${mutated} rewritten to a digest, ` +
        `${findings.length - denied - mutated} admitted unchanged` +
        (unasked > 0 ? `; ${unasked} without an answer from their registry` : "") +
        "\n",
    );
    if (values.fix === true) await fix(files, decided, io);
    if (unreadable.length > 0) return EXIT_ERROR;
    return failed > 0 ? 1 : 0;
  } catch (error) {
    reportPolicyError("check", error, io);
    return EXIT_ERROR;
  } finally {
    await session.close();
  }
}

/** A finding, and where its image is in which parsed document (for --fix). */
interface Decided {
  readonly finding: Finding;
  readonly object: ManifestObject;
  readonly pointer: string;
}

async function decideAll(
  objects: readonly ManifestObject[],
  policy: Policy,
  session: RegistrySession,
): Promise<Decided[]> {
  const slots = objects.flatMap((object) => object.images.map((slot) => ({ object, ...slot })));
  return mapLimited(slots, 8, async (slot) => {
    const context = { namespace: slot.object.namespace ?? "default", dryRun: true };
    let observed: RegistryObservation | undefined;
    const decided = await decideWith(slot.image, context, policy, async (r) => {
      observed = await session.lookup(r);
      return observed;
    });
    // baseImages: require-pinned and drift notes, as the webhook (without its tight budget).
    const decision = await applyImageFacts(decided, policy, session.facts, {
      deadline: session.deadline(),
      keychain: () => Promise.resolve(session.keychain),
      now: Date.now,
      observed,
      noteBudgetMs: 10_000,
    });
    const position = imagePosition(slot.object.file, slot.object.document, slot.pointer);
    const finding: Finding = {
      file: slot.object.file.path,
      line: position?.line,
      column: position?.col,
      object: slot.object.name,
      place: slot.place,
      image: slot.image,
      decision,
      registryFailure: observed !== undefined && "error" in observed ? observed.error : undefined,
    };
    return { finding, object: slot.object, pointer: slot.pointer };
  });
}

/** Writes the digest form of every rewritten image back (stdin's manifests to stdout). */
async function fix(files: readonly ManifestFile[], decided: readonly Decided[], io: CliIO) {
  for (const file of files) {
    const fixes: ImageFix[] = decided.flatMap(
      ({ finding: { decision, image }, object, pointer }) =>
        object.file === file && decision.action === "mutate" && decision.image !== image
          ? [{ document: object.document, pointer, image: decision.image }]
          : [],
    );
    if (file.path === "-") {
      io.stdout(applyFixes(file.text, fixes));
    } else if (fixes.length > 0) {
      await writeFile(file.path, applyFixes(file.text, fixes));
      io.stderr(`fixed ${file.path}: ${fixes.length} ${fixes.length === 1 ? "image" : "images"}\n`);
    }
  }
}
