import { DigestpinError } from "../errors.ts";

export type LayerErrorCode =
  /** The layer is not a tar archive digestpin can read (bad header, truncated, too deep). */
  | "ERR_LAYER_FORMAT"
  /** The layer's compression is neither gzip, zstd nor none. */
  | "ERR_LAYER_COMPRESSION"
  /** Reading the layers would download more than the cap allows. */
  | "ERR_DOWNLOAD_CAP";

/** A layer could not be read file by file (the registry's own failures are RegistryErrors). */
export class LayerError extends DigestpinError {
  declare readonly code: LayerErrorCode;
}
