import { DigestpinError, invariantBroken } from "../errors.ts";
import {
  assemblePolicy,
  checkFileDocument,
  checkPolicyDocument,
  PolicyInvalidError,
  type DocumentKind,
  type FileDocument,
  type PinRecord,
  type Policy,
} from "../policy/index.ts";

/** One stored policy or pins document: a file, or one key of a ConfigMap. */
export interface StoredDocument {
  /** A file name or `configmap NAMESPACE/NAME`, as in issues and pin origins. */
  readonly name: string;
  readonly kind: DocumentKind;
  readonly text: string;
  /**
   * Whether digestpin may change it: its pin store, or the files the CLI was given. The policy
   * ConfigMap and people's pins ConfigMaps belong to Helm, GitOps or their teams.
   */
  readonly owned: boolean;
  /**
   * The tool that syncs it (Helm, Argo CD, Flux), when one does: changes there would be undone.
   * A document neither owned nor managed is people's (kubectl edit): pins in it are changed in
   * place, new pins never go there.
   */
  readonly managedBy?: string;
  /** For a document of a local file: where in the file it is, for issues and writes. */
  readonly inFile?: FileDocument;
}

/** The documents of a policy as read at one moment; the policy document first. */
export interface PolicySnapshot {
  readonly documents: readonly StoredDocument[];
}

/**
 * Where the CLI reads and edits a policy: files (`--policy FILE`) or ConfigMaps. A write
 * carries the snapshot it was computed from and fails with PolicyConflictError when a document
 * changed since, so nobody's edit is lost.
 */
export interface PolicyStore<S extends PolicySnapshot = PolicySnapshot> {
  /** For messages: `policy.yaml`, `configmap digestpin-system/digestpin-policy`. */
  readonly description: string;
  /** Where new pins go, for messages: the policy file, or the ConfigMaps of the pin store. */
  readonly pinsGoTo: string;
  read(): Promise<S>;
  /**
   * New texts by document name: a name the snapshot does not have is created (a new shard of
   * the pin store), null deletes an owned document.
   */
  write(snapshot: S, changes: ReadonlyMap<string, string | null>): Promise<void>;
  /** The documents, new texts by name, that hold `records` once added as new pins. */
  placePins(snapshot: S, records: readonly PinRecord[]): ReadonlyMap<string, string>;
}

export class PolicyConflictError extends DigestpinError {
  static readonly code = "ERR_POLICY_CONFLICT";

  constructor(what: string, options?: ErrorOptions) {
    super(PolicyConflictError.code, `${what} was changed by someone else meanwhile`, options);
  }
}

/** A snapshot checked and merged: the policy, and which document pins what. */
export interface PolicyView<S extends PolicySnapshot = PolicySnapshot> {
  readonly snapshot: S;
  readonly policy: Policy;
  /** The documents that pin `key` (usually one; the same digest may be pinned twice). */
  holders(key: string): StoredDocument[];
}

/** Checks and merges a snapshot; PolicyInvalidError with every issue when it is invalid. */
export function viewOf<S extends PolicySnapshot>(snapshot: S): PolicyView<S> {
  const results = snapshot.documents.map((d) =>
    d.inFile === undefined
      ? checkPolicyDocument(d.text, d.name, { expect: d.kind })
      : checkFileDocument({ ...d.inFile, text: d.text }, { expect: d.kind }),
  );
  const [policyResult, ...pinResults] = results;
  if (policyResult === undefined) throw invariantBroken("a policy snapshot without documents");
  const assembled = assemblePolicy(policyResult, pinResults);
  if (!assembled.ok) throw new PolicyInvalidError(assembled.issues);
  const pins = results.map(() => new Map<string, PinRecord>());
  results.forEach((result, index) => {
    if (result.ok) for (const pin of result.document.pins) pins[index]?.set(pin.key, pin);
  });
  return {
    snapshot,
    policy: assembled.policy,
    holders: (key) => snapshot.documents.filter((_, index) => pins[index]?.has(key) === true),
  };
}

/** What an edit wants written (new texts by document name, null deletes) and what it reports. */
export interface EditResult<T> {
  readonly changes: ReadonlyMap<string, string | null>;
  readonly result: T;
}

/**
 * Read, edit, write, with optimistic concurrency: when a document changed between the read
 * and the write, everything is read again and `edit` runs again on the new texts (so it must
 * be a pure function of the view). No changes: nothing is written.
 */
export async function editPolicy<T, S extends PolicySnapshot>(
  store: PolicyStore<S>,
  edit: (view: PolicyView<S>) => EditResult<T>,
  options: { readonly attempts?: number; readonly dryRun?: boolean } = {},
): Promise<T> {
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    const view = viewOf(await store.read());
    const { changes, result } = edit(view);
    if (changes.size === 0 || options.dryRun === true) return result;
    try {
      await store.write(view.snapshot, changes);
      return result;
    } catch (error) {
      if (!(error instanceof PolicyConflictError) || attempt >= attempts) throw error;
    }
  }
}
