import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import type { Node } from "yaml";
import { quote } from "../../errors.ts";
import { globProblem } from "./glob.ts";
import type { Approvals, KeyObjectRef, SignatureKey, SignatureRule } from "./schema.ts";
import { childPath, type YamlReader } from "./yaml-reader.ts";

const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const CURVES: ReadonlySet<string> = new Set(["prime256v1", "secp384r1", "secp521r1"]);
const MIN_RSA_BITS = 2048;

/**
 * `signatures`: a list of `{ images: [globs], keys: [{ name, pem | secretRef | configMapRef }],
 * required }`. Every inline key is parsed here, so a key digestpin could not verify with is an
 * issue at its line, never a surprise at admission (keys in Secrets and ConfigMaps are checked
 * when the webhook reads them). A rule that is wrong in part is dropped whole (its issues recorded).
 */
export function readSignatureRules(reader: YamlReader, node: Node): SignatureRule[] {
  const rules: SignatureRule[] = [];
  for (const item of reader.list(node, "signatures") ?? []) {
    const before = reader.issues.length;
    const fields = reader.fields(item.node, item.path, ["images", "keys", "required"]);
    if (fields === undefined) continue;
    const imagesNode = fields.get("images")?.value ?? null;
    const keysNode = fields.get("keys")?.value ?? null;
    const requiredNode = fields.get("required")?.value ?? null;
    const images: string[] = [];
    if (imagesNode === null) {
      reader.fail(item.node, childPath(item.path, "images"), "a rule needs images (globs)");
    } else {
      for (const image of reader.strings(imagesNode, childPath(item.path, "images")) ?? []) {
        const why = globProblem(image.value);
        if (why === null) images.push(image.value);
        else reader.fail(image.node, image.path, why);
      }
    }
    const keys: SignatureKey[] = [];
    if (keysNode === null) {
      reader.fail(item.node, childPath(item.path, "keys"), "a rule needs at least one key");
    } else {
      for (const entry of reader.list(keysNode, childPath(item.path, "keys")) ?? []) {
        const key = readKey(reader, entry.node, entry.path);
        if (key === undefined) continue;
        if (keys.some((k) => k.name === key.name)) {
          reader.fail(entry.node, entry.path, `the key name ${quote(key.name)} is used twice`);
        } else keys.push(key);
      }
    }
    const required =
      requiredNode === null
        ? false
        : (reader.boolean(requiredNode, childPath(item.path, "required")) ?? false);
    if (reader.issues.length === before && (images.length === 0 || keys.length === 0)) {
      reader.fail(item.node, item.path, "a rule needs at least one image glob and one key");
    }
    if (reader.issues.length === before) rules.push({ images, keys, required });
  }
  return rules;
}

function readKey(reader: YamlReader, node: Node, path: string): SignatureKey | undefined {
  const fields = reader.fields(node, path, ["name", "pem", "secretRef", "configMapRef"]);
  if (fields === undefined) return undefined;
  const nameNode = fields.get("name")?.value ?? null;
  const sources = (["pem", "secretRef", "configMapRef"] as const).filter(
    (key) => (fields.get(key)?.value ?? null) !== null,
  );
  if (nameNode === null || sources.length !== 1) {
    reader.fail(
      node,
      path,
      "a key needs a name and one of pem (the cosign.pub text), secretRef or configMapRef",
    );
    return undefined;
  }
  const name = reader.string(nameNode, childPath(path, "name"));
  if (name !== undefined && !KEY_NAME.test(name)) {
    reader.fail(
      nameNode,
      childPath(path, "name"),
      `${quote(name)} is not a key name: letters, digits, '.', '_', '@' and '-', at most 63`,
    );
    return undefined;
  }
  const source = sources[0] ?? "pem";
  const sourceNode = fields.get(source)?.value ?? null;
  if (name === undefined || sourceNode === null) return undefined;
  if (source !== "pem") {
    const ref = readObjectRef(reader, sourceNode, childPath(path, source));
    return ref === undefined ? undefined : { name, [source]: ref };
  }
  const pem = reader.string(sourceNode, childPath(path, "pem"));
  if (pem === undefined) return undefined;
  const parsed = publicKeyOf(pem);
  if ("problem" in parsed) {
    reader.fail(sourceNode, childPath(path, "pem"), `key ${quote(name)}: ${parsed.problem}`);
    return undefined;
  }
  return { name, pem, id: parsed.id };
}

/** `{ name, key }`: a Secret's or ConfigMap's name and the key holding the PEM. */
function readObjectRef(reader: YamlReader, node: Node, path: string): KeyObjectRef | undefined {
  const fields = reader.fields(node, path, ["name", "key"]);
  if (fields === undefined) return undefined;
  const value = (key: string): string | undefined => {
    const found = fields.get(key)?.value ?? null;
    if (found === null) {
      reader.fail(node, childPath(path, key), `${key} is required`);
      return undefined;
    }
    return reader.string(found, childPath(path, key));
  };
  const name = value("name");
  const key = value("key");
  if (name === undefined || key === undefined) return undefined;
  if (name.length > 253 || !OBJECT_NAME.test(name)) {
    reader.fail(
      fields.get("name")?.value,
      childPath(path, "name"),
      `${quote(name)} is not an object name (lowercase letters, digits, "-" and ".")`,
    );
    return undefined;
  }
  if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) {
    reader.fail(
      fields.get("key")?.value,
      childPath(path, "key"),
      `${quote(key)} is not a valid data key`,
    );
    return undefined;
  }
  return { name, key };
}

/**
 * The key id of a PEM public key digestpin can verify cosign signatures with (ECDSA P-256,
 * P-384, P-521, RSA of 2048 bits or more), or why it cannot. The signatures part applies the
 * same rules when it builds the key (parsePublicKey); this is the load-time check.
 */
export function publicKeyOf(pem: string): { readonly id: string } | { readonly problem: string } {
  const problem = (text: string) => ({ problem: text });
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const label = blocks[0]?.[1] ?? "";
  if (blocks.length !== 1) {
    return problem(
      blocks.length === 0
        ? "not a PEM public key (-----BEGIN PUBLIC KEY-----); give the cosign.pub that cosign generate-key-pair wrote"
        : `${blocks.length} PEM blocks; give one public key per entry`,
    );
  }
  if (label !== "PUBLIC KEY" && label !== "RSA PUBLIC KEY") {
    return problem(
      label.includes("PRIVATE")
        ? `a private key (${label}); give its public half (cosign public-key --key …) and keep the private key out of the cluster`
        : `a ${label}, not a public key; keyless certificates are not supported, give a cosign public key`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: blocks[0]?.[0] ?? "", format: "pem" });
  } catch (error) {
    return problem(
      `cannot be read as a public key (${error instanceof Error ? error.message : String(error)}); paste the whole cosign.pub`,
    );
  }
  const details = key.asymmetricKeyDetails ?? {};
  const supported =
    (key.asymmetricKeyType === "ec" && CURVES.has(details.namedCurve ?? "")) ||
    (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= MIN_RSA_BITS);
  if (!supported) {
    const what =
      key.asymmetricKeyType === "ec"
        ? `an ECDSA key on ${details.namedCurve ?? "an unknown curve"}`
        : key.asymmetricKeyType === "rsa"
          ? `an RSA key of ${details.modulusLength ?? 0} bits`
          : `a ${key.asymmetricKeyType ?? "unknown"} key`;
    return problem(
      `${what}; digestpin verifies ECDSA P-256 (cosign generate-key-pair), P-384, P-521 and RSA keys of at least ${MIN_RSA_BITS} bits`,
    );
  }
  const der = key.export({ type: "spki", format: "der" });
  return { id: `sha256:${createHash("sha256").update(der).digest("hex")}` };
}

/**
 * `approvals: { signedBy: [key names], minSigners }`: every name must be a key of some
 * `signatures` rule, and minSigners between 1 and the number of names.
 */
export function readApprovals(
  reader: YamlReader,
  node: Node,
  rules: readonly SignatureRule[] | undefined,
): Approvals | undefined {
  const fields = reader.fields(node, "approvals", ["signedBy", "minSigners"]);
  if (fields === undefined) return undefined;
  const before = reader.issues.length;
  const signedByNode = fields.get("signedBy")?.value ?? null;
  const minNode = fields.get("minSigners")?.value ?? null;
  if (signedByNode === null) {
    reader.fail(node, "approvals.signedBy", "name the approver keys (names of signatures keys)");
    return undefined;
  }
  const known = new Set((rules ?? []).flatMap((rule) => rule.keys.map((key) => key.name)));
  const signedBy: string[] = [];
  for (const item of reader.strings(signedByNode, "approvals.signedBy") ?? []) {
    if (!known.has(item.value)) {
      const names = [...known].join(", ") || "none";
      reader.fail(
        item.node,
        item.path,
        `${quote(item.value)} is not the name of a key in signatures (keys: ${names})`,
      );
    } else if (!signedBy.includes(item.value)) signedBy.push(item.value);
  }
  let minSigners = 1;
  if (minNode !== null) {
    const value = reader.resolve(minNode);
    const number =
      value !== null && "value" in value && typeof value.value === "number" ? value.value : NaN;
    if (!Number.isInteger(number) || number < 1 || number > Math.max(1, signedBy.length)) {
      reader.fail(
        minNode,
        "approvals.minSigners",
        `expected a whole number from 1 to ${Math.max(1, signedBy.length)} (the number of signedBy keys)`,
      );
    } else minSigners = number;
  }
  if (reader.issues.length === before && signedBy.length === 0) {
    reader.fail(signedByNode, "approvals.signedBy", "name at least one approver key");
  }
  if (reader.issues.length !== before) return undefined;
  return { signedBy, minSigners };
}
