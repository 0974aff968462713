// `digestpin diff`: what changed between the pinned image and what the registry serves, by
// digests, layers, bases and files; `approve --with-diff` reuses its review.
export { diffCommand } from "./diff.ts";
export { compareImages } from "./compare.ts";
export { compareFiles } from "./files.ts";
export { countsOf } from "./files-report.ts";
export { DownloadCap, parseSize } from "./download-cap.ts";
export { downloadProgress, type LayerProgress } from "./download-progress.ts";
export { readChains, readLayering } from "./review.ts";
