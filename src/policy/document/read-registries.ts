import { X509Certificate } from "node:crypto";
import { isSeq, type Node } from "yaml";
import { quote } from "../../errors.ts";
import { namespaceProblem, objectNameProblem } from "./formats.ts";
import { canonicalHost, hostPatternProblem } from "./registry-hosts.ts";
import type { CredentialsSecret, RegistryRule } from "./schema.ts";
import { childPath, type YamlReader } from "./yaml-reader.ts";

const RULE_KEYS = [
  "host",
  "mirrors",
  "insecure",
  "ca",
  "credentialsSecret",
  "allowPrivateAddresses",
];

/** `registries`: the hosts digestpin may contact. Duplicates are errors naming both entries. */
export function readRegistries(reader: YamlReader, node: Node, path: string): RegistryRule[] {
  if (isSeq(node) && node.items.length === 0) {
    reader.fail(
      node,
      path,
      "is empty, which would deny every image; omit the key to allow any registry",
    );
  }
  const items = reader.list(node, path) ?? [];
  const seen = new Map<string, string>();
  const rules: RegistryRule[] = [];
  for (const item of items) {
    const read = readRule(reader, item.node, item.path);
    if (read === undefined) continue;
    const [rule, written] = read;
    const earlier = seen.get(rule.host);
    if (earlier !== undefined) {
      reader.fail(item.node, item.path, `host ${quote(written)} is already listed at ${earlier}`);
      continue;
    }
    const { line, column } = reader.position(item.node);
    seen.set(rule.host, `${item.path} (line ${line}:${column})`);
    rules.push(rule);
  }
  return rules;
}

/** The rule and its host as written. */
function readRule(
  reader: YamlReader,
  node: Node,
  path: string,
): [RegistryRule, string] | undefined {
  const fields = reader.fields(node, path, RULE_KEYS);
  if (fields === undefined) return undefined;
  const value = (key: string): Node | null => fields.get(key)?.value ?? null;
  const at = (key: string): string => childPath(path, key);

  const hostNode = value("host");
  let host: string | undefined;
  if (hostNode === null)
    reader.fail(node, at("host"), 'is required, e.g. "registry.example.com:5000"');
  else host = reader.string(hostNode, at("host"));
  const hostProblem = host === undefined ? null : hostPatternProblem(host);
  if (hostProblem !== null && hostNode !== null) reader.fail(hostNode, at("host"), hostProblem);

  const flag = (key: string): boolean => {
    const flagNode = value(key);
    return flagNode === null ? false : (reader.boolean(flagNode, at(key)) ?? false);
  };
  const insecure = flag("insecure");
  const mirrorsNode = value("mirrors");
  const mirrors =
    mirrorsNode === null ? [] : readMirrors(reader, mirrorsNode, at("mirrors"), insecure);
  const caNode = value("ca");
  const ca = caNode === null ? null : readCertificates(reader, caNode, at("ca"));
  const secretNode = value("credentialsSecret");
  const secret =
    secretNode === null ? null : readCredentialsSecret(reader, secretNode, at("credentialsSecret"));

  const allowPrivateAddresses = flag("allowPrivateAddresses");
  if (host === undefined || hostProblem !== null) return undefined;
  const rule: RegistryRule = {
    host: canonicalHost(host),
    mirrors,
    insecure,
    ...(ca !== undefined && ca !== null && { ca }),
    ...(secret !== undefined && secret !== null && { credentialsSecret: secret }),
    allowPrivateAddresses,
  };
  return [rule, host];
}

function readMirrors(reader: YamlReader, node: Node, path: string, insecure: boolean): string[] {
  const mirrors: string[] = [];
  for (const item of reader.strings(node, path) ?? []) {
    const problem = mirrorProblem(item.value, insecure);
    if (problem === null) mirrors.push(item.value);
    else reader.fail(item.node, item.path, problem);
  }
  return mirrors;
}

function mirrorProblem(value: string, insecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${quote(value)} is not a URL (e.g. "https://mirror.internal:5000")`;
  }
  if (url.protocol === "http:" && !insecure) {
    return `${quote(value)} is plain HTTP: use https:// or set insecure: true for this registry`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `${quote(value)} must start with https:// (or http:// with insecure: true)`;
  }
  if (url.username !== "" || url.password !== "") {
    return `${quote(value)} contains credentials: put them in credentialsSecret`;
  }
  if (url.search !== "" || url.hash !== "")
    return `${quote(value)} must not have a query or fragment`;
  return null;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readCertificates(reader: YamlReader, node: Node, path: string): string | undefined {
  const pem = reader.string(node, path);
  if (pem === undefined) return undefined;
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    reader.fail(node, path, "expected PEM certificates (-----BEGIN CERTIFICATE----- …)");
    return undefined;
  }
  let valid = true;
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      valid = false;
      const why = error instanceof Error ? error.message : String(error);
      reader.fail(
        node,
        path,
        `certificate ${index + 1} of ${blocks.length} cannot be read: ${why}`,
      );
    }
  }
  return valid ? pem : undefined;
}

function readCredentialsSecret(
  reader: YamlReader,
  node: Node,
  path: string,
): CredentialsSecret | undefined {
  const text = reader.string(node, path);
  if (text === undefined) return undefined;
  const parts = text.split("/");
  const [first, second] = parts;
  if (parts.length > 2 || first === undefined) {
    reader.fail(node, path, `${quote(text)}: expected "namespace/name" or "name"`);
    return undefined;
  }
  const namespace = second === undefined ? null : first;
  const name = second ?? first;
  const problem =
    (namespace === null ? null : namespaceProblem(namespace)) ?? objectNameProblem(name);
  if (problem !== null) {
    reader.fail(node, path, problem);
    return undefined;
  }
  return { namespace, name };
}
