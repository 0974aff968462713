import { writeFile } from "node:fs/promises";
import { applyImageFacts } from "../../admission/index.ts";
import { viewOf } from "../../pins/index.ts";
import {
  decideWith,
  type Decision,
  type Policy,
  type RegistryObservation,
} from "../../policy/index.ts";
import { readCommandArgs, usageError, type CliIO, type Command } from "../command.ts";
import {
  objectsOf,
  readManifestFiles,
  type ManifestFile,
  type ManifestObject,
} from "../manifests.ts";
import { manifestOptions } from "../options.ts";
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
import { formatTable } from "./table.ts";

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
  --fix                       Rewrite the images to their digest form in place (only the
                              image strings change); with -f -, print the fixed manifests
  --bases                     Also show the base images each admitted image declares
                              (org.opencontainers.image.base.*), each checked against the pins
${policyTargetUsage}${lookupUsage}  -h, --help                  Show this help.

Exit status: 0 when nothing is denied, 1 when an image is denied or a manifest cannot be read
(a CI gate), 2 on a usage error.
`;

/** `digestpin check -f PATH`: the webhook's decisions for manifests, offline. */
export const checkCommand: Command = {
  name: "check",
  summary: "Check manifests against the policy as the webhook would (a CI gate)",
  usage,
  run,
};

interface Finding {
  readonly object: ManifestObject;
  readonly place: string;
  readonly pointer: string;
  readonly image: string;
  readonly decision: Decision;
}

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    checkCommand,
    args,
    {
      ...manifestOptions,
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
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return fail(store);
  const session = await openRegistrySession(values, io.env);
  if (typeof session === "string") return fail(session);
  const fixStdin = values.fix === true && paths.includes("-");
  const report = fixStdin ? io.stderr : io.stdout;
  try {
    const { policy } = viewOf(await store.read());
    const files = await readManifestFiles(paths, io.readStdin);
    const unreadable = files.flatMap((file) => file.errors);
    for (const error of unreadable) io.stderr(`digestpin check: ${error}\n`);
    const findings = await decideAll(files.flatMap(objectsOf), policy, session);
    report(findingsTable(findings));
    for (const f of findings) {
      const text = f.decision.action === "deny" ? f.decision.message : f.decision.warning;
      if (text !== undefined)
        report(`\n${f.object.file.path} ${f.object.name} ${f.place}: ${text}\n`);
    }
    if (values.bases === true) {
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
    io.stderr(
      `\n${findings.length} images: ${denied} denied, ${mutated} rewritten to a digest, ` +
        `${findings.length - denied - mutated} admitted unchanged\n`,
    );
    if (values.fix === true) await fix(files, findings, io);
    return denied > 0 || unreadable.length > 0 ? 1 : 0;
  } catch (error) {
    return reportPolicyError("check", error, io);
  } finally {
    await session.close();
  }
}

async function decideAll(
  objects: readonly ManifestObject[],
  policy: Policy,
  session: RegistrySession,
): Promise<Finding[]> {
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
    return { ...slot, decision };
  });
}

function findingsTable(findings: readonly Finding[]): string {
  const header = ["FILE", "OBJECT", "PLACE", "IMAGE", "DECISION", "REASON"];
  const rows = findings.map(({ object, place, image, decision }) => [
    object.file.path,
    object.name,
    place,
    image,
    decision.action,
    decision.wouldDeny && decision.action !== "deny"
      ? `${decision.reason} (would deny)`
      : decision.reason,
  ]);
  return formatTable(header, rows);
}

/** Writes the digest form of every rewritten image back (stdin's manifests to stdout). */
async function fix(files: readonly ManifestFile[], findings: readonly Finding[], io: CliIO) {
  for (const file of files) {
    const fixes: ImageFix[] = findings.flatMap((f) =>
      f.object.file === file && f.decision.action === "mutate" && f.decision.image !== f.image
        ? [{ document: f.object.document, pointer: f.pointer, image: f.decision.image }]
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
