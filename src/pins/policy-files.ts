import { randomBytes } from "node:crypto";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DigestpinError, invariantBroken } from "../errors.ts";
import {
  splitPolicyFile,
  type DocumentKind,
  type FileDocument,
  type PinRecord,
} from "../policy/index.ts";
import { addPins } from "./pin-edit.ts";
import {
  PolicyConflictError,
  type PolicySnapshot,
  type PolicyStore,
  type StoredDocument,
} from "./policy-store.ts";

/** A snapshot of files: the documents, and each file's text they were split from. */
export interface FilesSnapshot extends PolicySnapshot {
  readonly files: ReadonlyMap<string, string>;
}

/**
 * A policy in local files, edited in place: a Policy file and optional Pins files, each one
 * document, several separated by `---`, or ConfigMap manifests wrapping them (as kept in Git).
 * A write replaces a file atomically (a temporary file renamed over it, mode kept) and only
 * if it still holds the text the edit was computed from; the rest of the file is kept as is.
 */
export class PolicyFiles implements PolicyStore<FilesSnapshot> {
  readonly description: string;
  readonly pinsGoTo: string;

  constructor(
    private readonly policyFile: string,
    private readonly pinsFiles: readonly string[] = [],
  ) {
    this.description = policyFile;
    this.pinsGoTo = policyFile;
  }

  async read(): Promise<FilesSnapshot> {
    const files = new Map<string, string>();
    const documents: StoredDocument[] = [];
    for (const [index, file] of [this.policyFile, ...this.pinsFiles].entries()) {
      const text = await readFile(file, "utf8");
      files.set(file, text);
      const split = splitPolicyFile(text, file);
      const alone = split.length === 1;
      for (const inFile of split) {
        const kind = inFile.expect ?? (index > 0 ? "Pins" : alone ? "Policy" : kindOf(inFile));
        documents.push({ name: inFile.name, kind, text: inFile.text, owned: true, inFile });
      }
    }
    // The Policy document first, as a snapshot has it; the rest in file order.
    const policy = documents.findIndex((d) => d.kind === "Policy");
    if (policy > 0) documents.unshift(...documents.splice(policy, 1));
    return { documents, files };
  }

  /** New pins go at the end of the Policy document's pins, as a person would add them. */
  placePins(snapshot: FilesSnapshot, records: readonly PinRecord[]): Map<string, string> {
    const target = snapshot.documents[0];
    if (target === undefined || records.length === 0) return new Map();
    return new Map([[target.name, addPins(target.text, records).text]]);
  }

  async write(snapshot: FilesSnapshot, changes: ReadonlyMap<string, string | null>): Promise<void> {
    const byFile = new Map<string, { document: FileDocument; text: string }[]>();
    for (const [name, text] of changes) {
      const inFile = snapshot.documents.find((d) => d.name === name)?.inFile;
      if (inFile === undefined || text === null)
        throw invariantBroken(`${name} is not a document of this policy, to change`);
      const edits = byFile.get(inFile.file) ?? [];
      edits.push({ document: inFile, text });
      byFile.set(inFile.file, edits);
    }
    const next = new Map<string, string>();
    for (const [file, edits] of byFile) {
      let text = snapshot.files.get(file) ?? "";
      // The last document first, so the others' places in the file still hold.
      for (const { document, text: replacement } of edits.sort(
        (a, b) => b.document.start - a.document.start,
      )) {
        if (document.replace === undefined) throw new NotWritableError(document.name);
        text = document.replace(text, replacement);
      }
      next.set(file, text);
    }
    for (const [file, text] of next) {
      if ((await readFile(file, "utf8")) !== snapshot.files.get(file))
        throw new PolicyConflictError(file);
      const temporary = join(
        dirname(file),
        `.${basename(file)}.${randomBytes(4).toString("hex")}.tmp`,
      );
      const { mode } = await stat(file);
      await writeFile(temporary, text, { mode });
      await rename(temporary, file);
    }
  }
}

/** A ConfigMap value digestpin cannot edit in place without rewriting its quoting. */
export class NotWritableError extends DigestpinError {
  static readonly code = "ERR_POLICY_NOT_WRITABLE";

  constructor(name: string) {
    super(
      NotWritableError.code,
      `${name} is a quoted string; write it as a block (\`policy.yaml: |\`) so digestpin can edit it in place`,
    );
  }
}

/** The kind a document of a multi-document file says it is (Pins when it says nothing else). */
function kindOf(document: FileDocument): DocumentKind {
  return /^kind:\s*["']?Policy["']?\s*$/m.test(document.text) ? "Policy" : "Pins";
}
