import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { Helm } from "../harness/helm.ts";

/** charts/digestpin */
export const CHART_DIR = fileURLToPath(new URL("../../charts/digestpin", import.meta.url));

/** The scenario files chart-testing (and these tests) render and install: ci/*-values.yaml. */
export const SCENARIOS: readonly string[] = readdirSync(join(CHART_DIR, "ci"))
  .filter((name) => name.endsWith("-values.yaml"))
  .sort();

/** The path of a scenario file. */
export const scenarioFile = (scenario: string): string => join(CHART_DIR, "ci", scenario);

/** An object of a rendering, as parsed (nothing is typed: the tests assert on it). */
export interface Rendered {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string } & Record<
    string,
    unknown
  >;
  readonly [field: string]: any;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace: string;
  /** Values files, in order. */
  readonly values?: readonly string[];
  /** `--set` arguments. */
  readonly set?: readonly string[];
  /** `--set-file` arguments. */
  readonly setFile?: readonly string[];
}

/** The arguments of `helm template|install|upgrade` after the release name and chart. */
export function valuesArgs(options: Omit<RenderOptions, "release">): string[] {
  return [
    `--namespace=${options.namespace}`,
    ...(options.values ?? []).map((file) => `--values=${file}`),
    ...(options.set ?? []).map((value) => `--set=${value}`),
    ...(options.setFile ?? []).map((value) => `--set-file=${value}`),
  ];
}

export interface Rendering {
  /** helm's output, as it printed it. */
  readonly text: string;
  readonly objects: readonly Rendered[];
}

/** `helm template` of the chart; fails (throws) when helm does, with its message. */
export async function renderChart(helm: Helm, options: RenderOptions): Promise<Rendering> {
  const result = await helm([
    "template",
    options.release ?? "digestpin",
    CHART_DIR,
    ...valuesArgs(options),
  ]);
  if (result.exitCode !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return { text: result.stdout, objects: parseObjects(result.stdout) };
}

/** Every non-empty YAML document of a multi-document text. */
export function parseObjects(text: string): Rendered[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw document.errors[0]!;
      return document.toJS() as Rendered | null;
    })
    .filter((object): object is Rendered => object !== null);
}

/** The one object of `kind` (and `name`, when given); throws when there is not exactly one. */
export function the(objects: readonly Rendered[], kind: string, name?: string): Rendered {
  const found = objects.filter(
    (object) => object.kind === kind && (name === undefined || object.metadata.name === name),
  );
  if (found.length !== 1) {
    throw new Error(
      `expected one ${kind}${name === undefined ? "" : ` ${name}`}, found ${found.length}`,
    );
  }
  return found[0]!;
}

/** `Kind/name` of every object, sorted: what a rendering contains at a glance. */
export function inventory(objects: readonly Rendered[]): string[] {
  return objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();
}

/** How kubectl names an object in its output: `kind.group/name` (`kind/name` for the core group). */
export function kubectlName(object: Rendered): string {
  const group = object.apiVersion.includes("/") ? `.${object.apiVersion.split("/")[0]!}` : "";
  return `${object.kind.toLowerCase()}${group}/${object.metadata.name}`;
}
