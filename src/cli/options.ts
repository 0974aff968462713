/** Option groups more than one command takes (each command says what they mean for it). */

/** Commands that record a change: who, why, and a dry run. */
export const editOptions = {
  reason: { type: "string" },
  by: { type: "string" },
  "dry-run": { type: "boolean" },
} as const;

/** Commands that read Kubernetes manifests: `-f FILE|DIR|-`, repeatable. */
export const manifestOptions = {
  filename: { type: "string", short: "f", multiple: true },
} as const;

/** Commands that compare images file by file: one platform, and a download budget. */
export const fileDiffOptions = {
  platform: { type: "string" },
  "max-download": { type: "string" },
} as const;
