import { PolicyConfigMaps } from "../../pins/index.ts";
import { formatIssue, PolicyInvalidError } from "../../policy/index.ts";
import { pinKeyOf, tryParseReference } from "../../reference/index.ts";
import { EXIT_USAGE, readCommandArgs, usageError, type CliIO, type Command } from "../command.ts";
import { editOptions } from "../options.ts";
import {
  editorOf,
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "../policy-target.ts";
import { listPins, type ListFormat } from "./list.ts";
import { migratePins } from "./migrate.ts";
import { removePinsFrom } from "./remove.ts";

const usage = `Usage:
  digestpin pins list [--registry HOST] [--repository REPO] [--tag TAG] [-o table|json|yaml]
  digestpin pins remove NAME:TAG… --reason TEXT [--by NAME] [--dry-run]
  digestpin pins migrate [--from CONFIGMAP]… [--dry-run]

list     Every pin in force, with the documents that keep it (digestpin's pin store, the
         policy, a pins ConfigMap or file). Filters: --registry (e.g. docker.io), --repository
         (registry/repository, or repository), --tag. -o table (default), json or yaml;
         --no-headers drops the table's header.
remove   Takes pins out of force. Each stays under 'removed' in its document, with its digest
         first in its history and who removed it, when and why. A pin in a ConfigMap that
         Helm, Argo CD or Flux manages is refused: remove it where that tool takes it from.
migrate  Moves the pins of the policy ConfigMap (and of the trust-on-first-use ConfigMap of
         earlier versions, and of --from pins ConfigMaps) into digestpin's pin store, records
         and histories as they are, so that helm upgrade and GitOps syncs cannot drop them.
         Remove them from the policy kept in Git afterwards; until then a sync that puts them
         back is harmless (one digest in two places is allowed).

Options:
  -o, --output FORMAT         list: table, json or yaml
  --no-headers                list: no header line
  --registry, --repository, --tag   list: filters
  --reason TEXT, --by NAME, --dry-run   remove and migrate, as for pin
  --from CONFIGMAP            migrate: also this pins ConfigMap (in digestpin's namespace)
${policyTargetUsage}
Exit status: 0 done, 1 a pin could not be changed, 2 usage.
`;

/** `digestpin pins`: list, remove, migrate. */
export const pinsCommand: Command = {
  name: "pins",
  summary: "List, remove and migrate pins",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    pinsCommand,
    args,
    {
      output: { type: "string", short: "o" },
      "no-headers": { type: "boolean" },
      registry: { type: "string" },
      repository: { type: "string" },
      tag: { type: "string" },
      from: { type: "string", multiple: true },
      ...editOptions,
      ...policyTargetOptions,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const fail = usageError(pinsCommand, io);
  const [subcommand, ...rest] = positionals;
  if (subcommand === undefined) return fail("no subcommand given: list, remove or migrate");
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return fail(store);
  const dryRun = values["dry-run"] === true;
  try {
    switch (subcommand) {
      case "list": {
        if (rest.length > 0) return fail(`unexpected argument "${rest[0] ?? ""}"`);
        const format = values.output ?? "table";
        if (!isFormat(format)) return fail(`-o ${format}: give table, json or yaml`);
        const filter = {
          registry: values.registry,
          repository: values.repository,
          tag: values.tag,
        };
        return await listPins(store, filter, format, values["no-headers"] === true, io);
      }
      case "remove": {
        if (rest.length === 0) return fail("give the pins to remove (NAME:TAG…)");
        if (values.reason === undefined || values.reason.trim() === "")
          return fail("--reason is required");
        const keys: string[] = [];
        for (const input of rest) {
          const ref = tryParseReference(input);
          const key = ref.ok && ref.reference.digest === null ? pinKeyOf(ref.reference) : null;
          if (key === null) return fail(`${input}: name a tag (name:tag)`);
          keys.push(key);
        }
        const removal = {
          at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
          by: editorOf(values.by, io.env),
          reason: values.reason,
        };
        const written = await removePinsFrom(store, keys, removal, dryRun);
        for (const key of keys) io.stdout(`${dryRun ? "would remove" : "removed"}  ${key}\n`);
        io.stderr(
          `${dryRun ? "dry run: nothing changed in" : "kept in the history of"} ${written.join(", ")}\n`,
        );
        return 0;
      }
      case "migrate": {
        if (rest.length > 0) return fail(`unexpected argument "${rest[0] ?? ""}"`);
        if (!(store instanceof PolicyConfigMaps))
          return fail(
            "migrate moves pins of a cluster's ConfigMaps: a policy file is its own store",
          );
        const from = (values.from ?? []).map((name) => `configmap ${store.namespace}/${name}`);
        const migration = await migratePins(store, from, dryRun);
        const verb = dryRun ? "would move" : "moved";
        let moved = 0;
        for (const [source, count] of migration.from) {
          moved += count;
          io.stdout(`${verb}  ${String(count)} ${count === 1 ? "pin" : "pins"} from ${source}\n`);
        }
        if (moved === 0) {
          io.stdout("nothing to migrate: every pin is in digestpin's pin store already\n");
          return 0;
        }
        io.stdout(`into  ${migration.to.join(", ") || "the store (already there)"}\n`);
        for (const name of migration.deleted)
          io.stdout(`${dryRun ? "would delete" : "deleted"}  ${name}\n`);
        if (!dryRun && migration.from.has(store.description)) {
          io.stderr(
            `Remove these pins from the policy kept in Git (or in helm's policy.document) too; ` +
              `until then a sync that puts them back is harmless, their digests being the same.\n`,
          );
        }
        return 0;
      }
      default:
        io.stderr(`digestpin pins: unknown subcommand "${subcommand}"\n\n${usage}`);
        return EXIT_USAGE;
    }
  } catch (error) {
    if (error instanceof PolicyInvalidError) {
      for (const issue of error.issues) io.stderr(`  ${formatIssue(issue)}\n`);
    }
    return reportPolicyError(`pins ${subcommand}`, error, io);
  }
}

function isFormat(format: string): format is ListFormat {
  return format === "table" || format === "json" || format === "yaml";
}
