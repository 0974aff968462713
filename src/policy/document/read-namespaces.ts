import { isCollection, type Node } from "yaml";
import { labelKeyProblem, labelValueProblem } from "./label-selector.ts";
import {
  CONTROLLER_POD_ACTIONS,
  DRIFT_ACTIONS,
  MODES,
  NAMESPACE_SETTING_KEYS,
  REWRITES,
  SELECTOR_OPERATORS,
  UNPINNED_ACTIONS,
  type LabelRequirement,
  type LabelSelector,
  type NamespaceRule,
  type NamespaceSettings,
} from "./schema.ts";
import { childPath, type YamlReader } from "./yaml-reader.ts";

/** The choices of each setting a `namespaces` rule may override. */
const CHOICES: Readonly<Record<keyof NamespaceSettings, readonly string[]>> = {
  mode: MODES,
  unpinned: UNPINNED_ACTIONS,
  drift: DRIFT_ACTIONS,
  controllerPods: CONTROLLER_POD_ACTIONS,
  rewrite: REWRITES,
};

/**
 * `namespaces`: a list of `{ selector, <setting>: <value>… }`. Each rule needs a selector and at
 * least one setting; a rule that is wrong in part is dropped whole (its issues are recorded).
 */
export function readNamespaceRules(reader: YamlReader, node: Node): NamespaceRule[] {
  const items = reader.list(node, "namespaces") ?? [];
  const rules: NamespaceRule[] = [];
  for (const item of items) {
    const before = reader.issues.length;
    const fields = reader.fields(item.node, item.path, ["selector", ...NAMESPACE_SETTING_KEYS]);
    if (fields === undefined) continue;
    const selectorNode = fields.get("selector")?.value ?? null;
    if (selectorNode === null) {
      reader.fail(item.node, childPath(item.path, "selector"), "a rule needs a selector");
    }
    const selector =
      selectorNode === null
        ? undefined
        : readSelector(reader, selectorNode, childPath(item.path, "selector"));
    const settings: Record<string, string> = {};
    for (const key of NAMESPACE_SETTING_KEYS) {
      const value = fields.get(key)?.value ?? null;
      if (value === null) continue;
      const chosen = reader.oneOf(value, childPath(item.path, key), CHOICES[key]);
      if (chosen !== undefined) settings[key] = chosen;
    }
    if (Object.keys(settings).length === 0 && reader.issues.length === before) {
      reader.fail(
        item.node,
        item.path,
        `a rule must set at least one of ${NAMESPACE_SETTING_KEYS.join(", ")}`,
      );
    }
    if (selector !== undefined && reader.issues.length === before) {
      rules.push({ selector, settings: settings });
    }
  }
  return rules;
}

/** A metav1.LabelSelector: `matchLabels` and `matchExpressions`. */
function readSelector(reader: YamlReader, node: Node, path: string): LabelSelector | undefined {
  const fields = reader.fields(node, path, ["matchLabels", "matchExpressions"]);
  if (fields === undefined) return undefined;
  const matchLabels: Record<string, string> = {};
  const labelsNode = fields.get("matchLabels")?.value ?? null;
  const labelsPath = childPath(path, "matchLabels");
  for (const entry of labelsNode === null ? [] : (reader.entries(labelsNode, labelsPath) ?? [])) {
    const entryPath = childPath(labelsPath, entry.key);
    const keyProblem = labelKeyProblem(entry.key);
    if (keyProblem !== null) reader.fail(entry.keyNode, entryPath, keyProblem);
    const value = entry.value === null ? "" : reader.string(entry.value, entryPath);
    const valueProblem = value === undefined ? null : labelValueProblem(value);
    if (valueProblem !== null) reader.fail(entry.value, entryPath, valueProblem);
    if (keyProblem === null && value !== undefined && valueProblem === null) {
      matchLabels[entry.key] = value;
    }
  }
  const expressionsNode = fields.get("matchExpressions")?.value ?? null;
  const expressionsPath = childPath(path, "matchExpressions");
  const items =
    expressionsNode === null ? [] : (reader.list(expressionsNode, expressionsPath) ?? []);
  const matchExpressions = items.flatMap((item) => readRequirement(reader, item.node, item.path));
  const written = [labelsNode, expressionsNode].some(
    (written) => written !== null && !(isCollection(written) && written.items.length === 0),
  );
  if (!written) {
    reader.fail(
      node,
      path,
      "an empty selector selects every namespace; give matchLabels or matchExpressions",
    );
  }
  return { matchLabels, matchExpressions };
}

function readRequirement(reader: YamlReader, node: Node, path: string): LabelRequirement[] {
  const fields = reader.fields(node, path, ["key", "operator", "values"]);
  if (fields === undefined) return [];
  const keyNode = fields.get("key")?.value ?? null;
  const operatorNode = fields.get("operator")?.value ?? null;
  const valuesNode = fields.get("values")?.value ?? null;
  if (keyNode === null || operatorNode === null) {
    reader.fail(node, path, "an expression needs key and operator");
    return [];
  }
  const key = reader.string(keyNode, childPath(path, "key"));
  const keyProblem = key === undefined ? null : labelKeyProblem(key);
  if (keyProblem !== null) reader.fail(keyNode, childPath(path, "key"), keyProblem);
  const operator = reader.oneOf(operatorNode, childPath(path, "operator"), SELECTOR_OPERATORS);
  const values =
    valuesNode === null
      ? []
      : (reader.strings(valuesNode, childPath(path, "values")) ?? []).map((v) => v.value);
  const needsValues = operator === "In" || operator === "NotIn";
  if (operator !== undefined && needsValues !== values.length > 0) {
    const message = needsValues
      ? `operator ${operator} needs values`
      : `operator ${operator} takes no values`;
    reader.fail(valuesNode ?? node, childPath(path, "values"), message);
    return [];
  }
  if (key === undefined || keyProblem !== null || operator === undefined) return [];
  return [{ key, operator, values }];
}
