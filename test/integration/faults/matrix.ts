import { Writable } from "node:stream";
import type { ExecutionContext } from "ava";
import { answerReview } from "../../../src/webhook/review-answer.ts";
import type { AdmissionDeps } from "../../../src/admission/handler.ts";
import { createLogger, type Logger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { policyFromText, type PinRecord, type Policy } from "../../../src/policy/index.ts";
import type { Keychain } from "../../../src/registry/credentials.ts";
import type { RegistryConfig } from "../../../src/registry/registry-config.ts";
import { PolicyResolver } from "../../../src/webhook/policy-resolver.ts";
import { reportRow } from "../../helpers/reliability.ts";

/**
 * One row of the registry-faults matrix: the admission handler (answerReview, as /mutate runs
 * it) with the resolver `digestpin serve` composes (PolicyResolver → Resolver, the policy's
 * registries), against a registry that misbehaves in one way. Six reviews per row:
 * {pinned, drifted, unpinned} × registryUnavailable {use-pin, deny}, unpinned under
 * trust-on-first-use (so the registry is asked for it too).
 */

/** The three images of a row and what the pins say about them. */
export interface RowImages {
  /** Pinned to the digest the registry serves (when it answers honestly). */
  readonly pinned: { readonly image: string; readonly pin: string };
  /** Pinned to an older digest; the registry now serves another. */
  readonly drifted: { readonly image: string; readonly pin: string; readonly served: string };
  /** Not pinned; the registry serves `served` (when honest). */
  readonly unpinned: { readonly image: string; readonly served: string };
}

/** What the registry amounts to in this row. */
export type RowFault =
  | { readonly kind: "honest" }
  /** The registry cannot answer (timeout, refused, reset, 5xx, 429): registryUnavailable applies. */
  | { readonly kind: "unavailable"; readonly code: string }
  /** The registry answers wrongly (a lie, a refusal): every tag is denied, whatever the policy. */
  | { readonly kind: "error"; readonly code: string }
  /** The registry names `digest` for every tag (a lie trust-on-first-use cannot tell). */
  | { readonly kind: "names"; readonly digest: string };

export interface RowOptions {
  readonly registries: readonly RegistryConfig[];
  readonly images: RowImages;
  readonly fault: RowFault;
  readonly keychain?: Keychain;
  readonly budgetMs?: number;
  /** How long a review may take past the budget (TLS, retries' last attempt, a loaded machine). */
  readonly slackMs?: number;
}

type Column = "pinned" | "drifted" | "unpinned";
type Unavailable = "use-pin" | "deny";

export interface Cell {
  readonly column: Column;
  readonly unavailable: Unavailable;
  readonly allowed: boolean;
  /** `action/reason` from the audit annotation. */
  readonly decision: string;
  /** The image after the patch (allowed), else undefined. */
  readonly admitted: string | undefined;
  readonly message: string;
  readonly warnings: readonly string[];
  readonly ms: number;
}

export interface RowResult {
  readonly cells: readonly Cell[];
  readonly recorded: ReadonlyMap<string, PinRecord>;
  readonly logs: string;
  readonly slowestMs: number;
}

const key = (image: string) => image.replace(/@.*$/, "");

function policyYaml(options: RowOptions, unavailable: Unavailable): string {
  const { pinned, drifted } = options.images;
  return [
    "apiVersion: digestpin.dev/v1alpha1",
    "kind: Policy",
    "mode: enforce",
    "unpinned: trust-on-first-use",
    "drift: deny",
    `registryUnavailable: ${unavailable}`,
    "cacheTTL: 0s",
    // JSON is YAML: the CA's PEM travels as one double-quoted string.
    `registries: ${JSON.stringify(options.registries)}`,
    "pins:",
    `  ${JSON.stringify(key(pinned.image))}: ${pinned.pin}`,
    `  ${JSON.stringify(key(drifted.image))}: ${drifted.pin}`,
    "",
  ].join("\n");
}

/** A logger writing into a string, to scan what the webhook logged. */
export function capturedLogger(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), text: () => chunks.join("") };
}

function podReview(uid: string, image: string) {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      name: "faulty",
      namespace: "team",
      operation: "CREATE",
      userInfo: { username: "alice" },
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "faulty" },
        spec: { containers: [{ name: "app", image }] },
      },
      dryRun: false,
    },
  };
}

/** Runs the six reviews of a row, concurrently, as the API server would send them. */
export async function runRow(options: RowOptions): Promise<RowResult> {
  const policies: Record<Unavailable, Policy> = {
    "use-pin": policyFromText(policyYaml(options, "use-pin"), "policy.yaml"),
    deny: policyFromText(policyYaml(options, "deny"), "policy.yaml"),
  };
  // Both policies share registries and cacheTTL, so they share one resolver, as in serve.
  const resolver = new PolicyResolver(() => policies["use-pin"]);
  const recorded = new Map<string, PinRecord>();
  const { logger, text } = capturedLogger();
  const metrics = new Metrics();
  const keychain = options.keychain ?? (() => undefined);
  const deps = (policy: Policy): AdmissionDeps => ({
    policy: () => policy,
    resolve: resolver.resolve,
    keychainFor: () => Promise.resolve(keychain),
    recordPin: (pinKey, record) => {
      if (!recorded.has(pinKey)) recorded.set(pinKey, record);
      return Promise.resolve(recorded.get(pinKey)!.digest);
    },
    mutateTemplates: false,
    budgetMs: options.budgetMs ?? 1500,
    now: Date.now,
  });
  const columns: Column[] = ["pinned", "drifted", "unpinned"];
  const unavailables: Unavailable[] = ["use-pin", "deny"];
  try {
    const cells = await Promise.all(
      columns.flatMap((column) =>
        unavailables.map(async (unavailable): Promise<Cell> => {
          const image = options.images[column].image;
          const started = performance.now();
          const answer = await answerReview(
            "mutate",
            podReview(`${column}-${unavailable}`, image),
            { ...deps(policies[unavailable]), logger, metrics },
          );
          const ms = performance.now() - started;
          const response = (answer.body as { response: any }).response;
          const patch =
            response.patch === undefined
              ? []
              : (JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")) as {
                  path: string;
                  value: string;
                }[]);
          const replaced = patch.find((op) => op.path === "/spec/containers/0/image")?.value;
          return {
            column,
            unavailable,
            allowed: response.allowed === true,
            decision: String(response.auditAnnotations?.decisions ?? "").replace(
              "containers[app]=",
              "",
            ),
            admitted: response.allowed === true ? (replaced ?? image) : undefined,
            message: String(response.status?.message ?? ""),
            warnings: response.warnings ?? [],
            ms,
          };
        }),
      ),
    );
    return {
      cells,
      recorded,
      logs: text(),
      slowestMs: Math.max(...cells.map((c) => c.ms)),
    };
  } finally {
    await resolver.close();
  }
}

/** What each cell must be under `fault`: the decision, and the image admitted (if any). */
function expected(
  images: RowImages,
  fault: RowFault,
  column: Column,
  unavailable: Unavailable,
): { decision: string; admitted: string | undefined; messageHas?: string } {
  const { pinned, drifted, unpinned } = images;
  const at = (image: string, digest: string) => `${key(image)}@${digest}`;
  switch (fault.kind) {
    case "honest":
      if (column === "pinned")
        return { decision: "mutate/pinned", admitted: at(pinned.image, pinned.pin) };
      if (column === "drifted")
        return { decision: "deny/drift", admitted: undefined, messageHas: drifted.served };
      return {
        decision: "mutate/trust-on-first-use",
        admitted: at(unpinned.image, unpinned.served),
      };
    case "unavailable":
      if (column === "unpinned")
        return {
          decision: "deny/registry-unavailable",
          admitted: undefined,
          messageHas: fault.code,
        };
      if (unavailable === "deny")
        return {
          decision: "deny/registry-unavailable",
          admitted: undefined,
          messageHas: fault.code,
        };
      return {
        decision: "mutate/registry-unavailable",
        admitted: at(images[column].image, column === "pinned" ? pinned.pin : drifted.pin),
      };
    case "error":
      return { decision: "deny/registry-error", admitted: undefined, messageHas: fault.code };
    case "names":
      if (column === "unpinned")
        return {
          decision: "mutate/trust-on-first-use",
          admitted: at(unpinned.image, fault.digest),
        };
      return { decision: "deny/drift", admitted: undefined, messageHas: fault.digest };
  }
}

/**
 * Asserts every cell's exact outcome, that nothing but a pin (or, under trust-on-first-use, the
 * digest then recorded as the pin) was admitted, and that slow faults stay inside the budget;
 * then reports the row for docs/reliability.md.
 */
export function assertRow(
  t: ExecutionContext,
  file: string,
  subject: string,
  options: RowOptions,
  result: RowResult,
): void {
  const { images, fault } = options;
  const budget = options.budgetMs ?? 1500;
  for (const cell of result.cells) {
    const want = expected(images, fault, cell.column, cell.unavailable);
    const where = `${subject}: ${cell.column}, registryUnavailable: ${cell.unavailable}`;
    t.is(cell.decision, want.decision, `${where}: ${cell.message}`);
    t.is(cell.admitted, want.admitted, where);
    if (want.messageHas !== undefined)
      t.true(cell.message.includes(want.messageHas), `${where}: ${cell.message}`);
    if (cell.decision === "mutate/registry-unavailable")
      t.true(
        cell.warnings.some((w) => w.startsWith("registry unavailable")),
        where,
      );
    // The safety property: an admitted image is digest-pinned to the pin, never to the drifted
    // digest; an unpinned one only through a trust-on-first-use record of that very digest.
    if (cell.admitted !== undefined) {
      const digest = cell.admitted.slice(cell.admitted.indexOf("@") + 1);
      if (cell.column === "pinned") t.is(digest, images.pinned.pin, where);
      if (cell.column === "drifted") {
        t.is(digest, images.drifted.pin, where);
        t.not(digest, images.drifted.served, where);
      }
      if (cell.column === "unpinned")
        t.is(result.recorded.get(key(images.unpinned.image))?.digest, digest, where);
    }
    t.true(cell.ms < budget + (options.slackMs ?? 2500), `${where}: ${cell.ms.toFixed(0)} ms`);
  }
  if (fault.kind === "unavailable" || fault.kind === "error")
    t.is(result.recorded.size, 0, "nothing recorded");
  const cell = (column: Column, unavailable: Unavailable) =>
    result.cells.find((c) => c.column === column && c.unavailable === unavailable)!;
  const show = (c: Cell): string => {
    if (!c.allowed) return `denied (${c.decision.replace("deny/", "")})`;
    if (c.decision === "mutate/trust-on-first-use")
      return fault.kind === "names"
        ? "pinned on first use to the digest the registry named (trust-on-first-use trusts that answer)"
        : "pinned on first use";
    if (c.decision === "mutate/registry-unavailable") return "admitted at pin, warned";
    return "admitted at pin";
  };
  const outcome =
    `pinned: use-pin ${show(cell("pinned", "use-pin"))}, deny ${show(cell("pinned", "deny"))}; ` +
    `drifted: use-pin ${show(cell("drifted", "use-pin"))}, deny ${show(cell("drifted", "deny"))}; ` +
    `unpinned: ${show(cell("unpinned", "use-pin"))}` +
    (fault.kind === "unavailable" || fault.kind === "error" ? ` [${fault.code}]` : "") +
    `; nothing admitted but at a pin; slowest review ${(result.slowestMs / 1000).toFixed(2)} s (budget ${(budget / 1000).toFixed(1)} s)`;
  reportRow(t, file, {
    section: "faults",
    subject,
    tried: "6 reviews",
    outcome,
    figures: {
      cells: result.cells.map(({ column, unavailable, decision, admitted, ms }) => ({
        column,
        unavailable,
        decision,
        admitted,
        ms: Math.round(ms),
      })),
    },
  });
}
