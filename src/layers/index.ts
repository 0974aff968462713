// Layers: reads image layers (tar, gzip, zstd) with limits and compares images file by file
// and layer by layer (overlay semantics, whiteouts, shared prefixes), for review and notes.
export { LayerError } from "./errors.ts";
export { readLayer } from "./read-layer.ts";
export type { TarEntry } from "./tar-reader.ts";
export type { ChangeKind, Difference, FileChange } from "./file-compare.ts";
export {
  changedLayers,
  diffImageFiles,
  planStacks,
  type FileDiff,
  type SharedLayers,
  type StackPlan,
} from "./image-file-diff.ts";
export {
  baseLayerCount,
  comparePrefix,
  describePrefix,
  prefixNote,
  treeFindings,
  type PrefixFinding,
} from "./layer-prefix.ts";
