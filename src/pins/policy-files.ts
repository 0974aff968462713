import { randomBytes } from "node:crypto";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { invariantBroken } from "../errors.ts";
import {
  PolicyConflictError,
  type PolicySnapshot,
  type PolicyStore,
  type StoredDocument,
} from "./policy-store.ts";

/**
 * A policy in local files: a `kind: Policy` file and optional `kind: Pins` files, edited in
 * place. A write replaces a file atomically (a temporary file renamed over it, mode kept) and
 * only if it still holds the text the edit was computed from.
 */
export class PolicyFiles implements PolicyStore {
  readonly description: string;

  constructor(
    private readonly policyFile: string,
    private readonly pinsFiles: readonly string[] = [],
  ) {
    this.description = policyFile;
  }

  async read(): Promise<PolicySnapshot> {
    const documents: StoredDocument[] = [];
    for (const [index, name] of [this.policyFile, ...this.pinsFiles].entries()) {
      const text = await readFile(name, "utf8");
      documents.push({ name, kind: index === 0 ? "Policy" : "Pins", text });
    }
    return { documents };
  }

  async write(snapshot: PolicySnapshot, changes: ReadonlyMap<string, string>): Promise<void> {
    for (const [name, text] of changes) {
      const before = snapshot.documents.find((d) => d.name === name);
      if (before === undefined) throw invariantBroken(`${name} is not a document of this policy`);
      if ((await readFile(name, "utf8")) !== before.text) throw new PolicyConflictError(name);
      const temporary = join(
        dirname(name),
        `.${basename(name)}.${randomBytes(4).toString("hex")}.tmp`,
      );
      const { mode } = await stat(name);
      await writeFile(temporary, text, { mode });
      await rename(temporary, name);
    }
  }
}
