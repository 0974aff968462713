// Policy sources: where a generation comes from (files, watched; the cluster's ConfigMap
// names) and the holder that swaps a valid change in whole and keeps the last good one.
export type { PolicyListener, PolicySource } from "./source.ts";
export { PolicyHolder, type PolicyHolderOptions, type PolicyReport } from "./policy-holder.ts";
export { assemblePolicy, PolicyAssembler, unreadable, type AssembleResult } from "./assemble.ts";
export { collectGarbage } from "./collect-garbage.ts";
export { DocumentCache } from "./document-cache.ts";
export { DocumentParser } from "./document-parser.ts";
export { FilePolicySource, type FileSourceOptions } from "./file-source.ts";
export * from "./locations.ts";
