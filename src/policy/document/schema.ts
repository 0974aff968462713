/**
 * The policy as digestpin uses it after validation: plain, immutable objects. The YAML contract
 * (docs/policy.md) maps onto these one to one; read-*.ts turn YAML into them.
 */

export const API_VERSION = "digestpin.dev/v1alpha1";

export const MODES = ["enforce", "warn", "audit"] as const;
export const UNPINNED_ACTIONS = ["deny", "trust-on-first-use", "resolve", "allow"] as const;
export const DRIFT_ACTIONS = ["deny", "warn"] as const;
export const REGISTRY_UNAVAILABLE_ACTIONS = ["use-pin", "deny"] as const;
export const REWRITES = ["tag-and-digest", "digest", "none"] as const;
export const CONTROLLER_POD_ACTIONS = ["use-pin", "strict"] as const;
export const BASE_IMAGES_RULES = ["off", "require-pinned"] as const;

export type Mode = (typeof MODES)[number];
export type UnpinnedAction = (typeof UNPINNED_ACTIONS)[number];
export type DriftAction = (typeof DRIFT_ACTIONS)[number];
export type RegistryUnavailableAction = (typeof REGISTRY_UNAVAILABLE_ACTIONS)[number];
export type Rewrite = (typeof REWRITES)[number];
export type ControllerPodAction = (typeof CONTROLLER_POD_ACTIONS)[number];
export type BaseImagesRule = (typeof BASE_IMAGES_RULES)[number];

/** A Secret named in the policy; `namespace` null means the webhook's own namespace. */
export interface CredentialsSecret {
  readonly namespace: string | null;
  readonly name: string;
}

/**
 * One entry of `registries`: a registry digestpin may contact, and how. The registry client's
 * RegistryConfig has this shape, so a policy's list goes to the resolver as it is.
 */
export interface RegistryRule {
  /**
   * `host[:port]` in lowercase (`index.docker.io` written as `docker.io`), `*.domain[:port]`
   * (one or more labels), or `*` (any registry).
   */
  readonly host: string;
  /** Base URLs tried in order before the registry itself. */
  readonly mirrors: readonly string[];
  readonly insecure: boolean;
  /** PEM bundle trusted for this registry; absent: the system roots. */
  readonly ca?: string;
  /** A kubernetes.io/dockerconfigjson Secret with credentials for this registry. */
  readonly credentialsSecret?: CredentialsSecret;
  readonly allowPrivateAddresses: boolean;
}

export interface Exemptions {
  /** Namespaces digestpin leaves alone entirely (exact names). */
  readonly namespaces: readonly string[];
  /** Globs over the canonical reference (see glob.ts). */
  readonly images: readonly string[];
}

export interface Settings {
  readonly mode: Mode;
  readonly unpinned: UnpinnedAction;
  readonly drift: DriftAction;
  /**
   * What an object a controller created (a Pod of a ReplicaSet, a ReplicaSet of a Deployment, a
   * Job of a CronJob) gets when its pinned tag moved or its registry cannot answer: `use-pin`
   * admits it at the pin, whatever `drift` and `registryUnavailable` say; `strict` decides it
   * like any other.
   */
  readonly controllerPods: ControllerPodAction;
  readonly registryUnavailable: RegistryUnavailableAction;
  /** `none`: validate only: nothing is rewritten unless only the pin can be admitted. */
  readonly rewrite: Rewrite;
  /** How long what a registry said about a tag may be reused, in milliseconds. */
  readonly cacheTTLMs: number;
  /** null: any registry may be contacted (the resolver's address guards still apply). */
  readonly registries: readonly RegistryRule[] | null;
  readonly exempt: Exemptions;
  /**
   * `require-pinned`: an image that declares its base (org.opencontainers.image.base.*) is
   * admitted only when that base digest is pinned. Absent: `off`.
   */
  readonly baseImages?: BaseImagesRule;
  /** Settings for the namespaces a selector picks; the first rule that selects one wins. */
  readonly namespaces: readonly NamespaceRule[];
  /** How the elected replica re-resolves every pinned tag (docs/drift.md). Absent: defaults. */
  readonly driftScan?: DriftScanSettings;
  /**
   * Which cosign keys sign which images (docs/signatures.md); the first rule whose `images`
   * match an image applies to it. Absent: no signature is ever read.
   */
  readonly signatures?: readonly SignatureRule[];
  /** A moved tag is approved by signatures of these keys on its new digest. Absent: never. */
  readonly approvals?: Approvals;
}

/**
 * A public key of `signatures`, as the policy names it: inline (`pem`, parsed and checked at
 * load, `id` known) or one key of a Secret or ConfigMap in digestpin's namespace (read and
 * checked by the webhook when a signature is verified).
 */
export interface SignatureKey {
  /** Unique within its rule; what `approvals.signedBy`, messages and pin histories use. */
  readonly name: string;
  /** The PEM `-----BEGIN PUBLIC KEY-----` block, as `cosign generate-key-pair` writes it. */
  readonly pem?: string;
  /** With `pem`: `sha256:` and the hex SHA-256 of the key's DER SubjectPublicKeyInfo. */
  readonly id?: string;
  readonly secretRef?: KeyObjectRef;
  readonly configMapRef?: KeyObjectRef;
}

/** One key of a Secret or a ConfigMap in digestpin's namespace. */
export interface KeyObjectRef {
  readonly name: string;
  readonly key: string;
}

/** One entry of `signatures`: the images it covers and the keys that sign them. */
export interface SignatureRule {
  /** Globs over the canonical reference, as `exempt.images`. */
  readonly images: readonly string[];
  readonly keys: readonly SignatureKey[];
  /** An image is admitted only at a digest that one of `keys` signed. */
  readonly required: boolean;
}

/** `approvals`: the keys whose signatures on a moved tag's new digest approve it. */
export interface Approvals {
  /** Key names of `signatures` rules. */
  readonly signedBy: readonly string[];
  /** How many distinct keys of `signedBy` must have signed (at least 1). */
  readonly minSigners: number;
}

/** `driftScan`: every pinned tag re-resolved once per `intervalMs`, `concurrency` at a time. */
export interface DriftScanSettings {
  /** 0: no scan. */
  readonly intervalMs: number;
  readonly concurrency: number;
}

export const DEFAULT_DRIFT_SCAN: DriftScanSettings = { intervalMs: 3_600_000, concurrency: 4 };
/** The shortest interval (tests use 2s) and the longest (a day). */
export const MIN_DRIFT_SCAN_INTERVAL_MS = 1_000;
export const MAX_DRIFT_SCAN_INTERVAL_MS = 86_400_000;
export const MAX_DRIFT_SCAN_CONCURRENCY = 64;

/** The settings a `namespaces` rule may override. */
export const NAMESPACE_SETTING_KEYS = [
  "mode",
  "unpinned",
  "drift",
  "controllerPods",
  "rewrite",
] as const;
export type NamespaceSettings = Partial<Pick<Settings, (typeof NAMESPACE_SETTING_KEYS)[number]>>;

/** A Kubernetes label selector (metav1.LabelSelector). */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelRequirement[];
}

export const SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

export interface LabelRequirement {
  readonly key: string;
  readonly operator: (typeof SELECTOR_OPERATORS)[number];
  readonly values: readonly string[];
}

/** One entry of `namespaces`: the namespaces it selects, and what it overrides there. */
export interface NamespaceRule {
  readonly selector: LabelSelector;
  readonly settings: NamespaceSettings;
}

export const DEFAULT_CACHE_TTL_MS = 30_000;
export const MAX_CACHE_TTL_MS = 3_600_000;

export const DEFAULT_SETTINGS: Settings = {
  mode: "enforce",
  unpinned: "deny",
  drift: "deny",
  controllerPods: "use-pin",
  registryUnavailable: "use-pin",
  rewrite: "tag-and-digest",
  cacheTTLMs: DEFAULT_CACHE_TTL_MS,
  registries: null,
  exempt: { namespaces: [], images: [] },
  namespaces: [],
};

/** Where something was written: a file name or `configmap NAMESPACE/NAME`, line and column. */
export interface SourceLocation {
  readonly source: string;
  /** 1-based; 0 when the record was not read from text (e.g. built by a writer). */
  readonly line: number;
  readonly column: number;
}

/** An earlier digest of a pin, and who replaced it when and why. */
/** A history entry's fields besides its digest and review, in the order they are written. */
export const HISTORY_FIELDS = [
  "pinnedAt",
  "pinnedBy",
  "reason",
  "replacedAt",
  "replacedBy",
  "replaceReason",
] as const;

export interface PinHistoryEntry {
  readonly digest: string;
  readonly pinnedAt?: string;
  readonly pinnedBy?: string;
  readonly reason?: string;
  readonly replacedAt?: string;
  readonly replacedBy?: string;
  readonly replaceReason?: string;
  /** What the approval that replaced this digest reviewed (`approve --with-diff`). */
  readonly review?: PinReview;
}

/** A summary of a reviewed change: see pin-review.ts. */
export interface PinReview {
  readonly summary?: string;
  readonly added?: number;
  readonly removed?: number;
  readonly changed?: number;
  /** The first paths, as `digestpin diff --files` marks them (`+ /harmful`). */
  readonly paths?: readonly string[];
}

/** The pin record of one tag. */
export interface PinRecord {
  /** Canonical `registry/repository:tag`. */
  readonly key: string;
  /** The (index) digest the tag is pinned to. */
  readonly digest: string;
  /** RFC 3339, kept as written. */
  readonly pinnedAt?: string;
  readonly pinnedBy?: string;
  readonly reason?: string;
  /** Per-platform manifest digests (`linux/amd64` → digest), to explain a drift. */
  readonly platforms?: Readonly<Record<string, string>>;
  /** Earlier digests, newest first. */
  readonly history: readonly PinHistoryEntry[];
  /** Where the pin was read from, when it was read from text. */
  readonly origin?: SourceLocation;
}

/**
 * A pin that was removed (`digestpin pins remove`): no longer in force, its digests kept in
 * its history, the newest first, with who removed it when and why as `replaced*`.
 */
export interface RemovedPin {
  /** Canonical `registry/repository:tag`. */
  readonly key: string;
  readonly history: readonly PinHistoryEntry[];
}

export interface PolicyDocument {
  readonly kind: "Policy";
  readonly source: string;
  readonly settings: Settings;
  readonly pins: readonly PinRecord[];
  readonly removed: readonly RemovedPin[];
}

/** A `kind: Pins` document: more pins, no settings (e.g. a `digestpin.dev/pins` ConfigMap). */
export interface PinsDocument {
  readonly kind: "Pins";
  readonly source: string;
  readonly pins: readonly PinRecord[];
  readonly removed: readonly RemovedPin[];
}

export type ParsedDocument = PolicyDocument | PinsDocument;
export type DocumentKind = ParsedDocument["kind"];
