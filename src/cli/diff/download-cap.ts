import { LayerError } from "../../layers/index.ts";
import { formatSize } from "./report.ts";

/**
 * The total a command may download (`--max-download`). Sizes come from manifests, so a read is
 * refused before it starts; the blob reader refuses bytes beyond a layer's declared size.
 */
export class DownloadCap {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Counts `bytes` for `what`, or throws ERR_DOWNLOAD_CAP saying what would have been read. */
  reserve(bytes: number, what: string): void {
    if (this.#used + bytes <= this.limit) {
      this.#used += bytes;
      return;
    }
    const already = this.#used === 0 ? "" : ` on top of the ${formatSize(this.#used)} read already`;
    throw new LayerError(
      "ERR_DOWNLOAD_CAP",
      `${what} would download ${formatSize(bytes)}${already}, more than --max-download ` +
        `${formatSize(this.limit)} allows; it was not downloaded. Raise --max-download, compare ` +
        `one platform with --platform, or leave the shared layers unread with --shared skip.`,
    );
  }
}

/**
 * `20MiB`, `512Mi`, `1.5G`, `2GB`, `1000`: bytes. Ki/Mi/Gi/Ti (and KiB, …) are powers of 1024,
 * k/K/M/G/T (and kB, MB, …) powers of 1000, as Kubernetes quantities. A string is a problem.
 */
export function parseSize(text: string): number | string {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKMGT]i?)?B?\s*$/.exec(text);
  if (match?.[1] === undefined) {
    return `${JSON.stringify(text)} is not a size (e.g. 500MiB, 2Gi, 1GB or a number of bytes)`;
  }
  const unit = match[2] ?? "";
  const power = " KMGT".indexOf(unit.charAt(0).toUpperCase());
  const base = unit.endsWith("i") ? 1024 : 1000;
  return Math.round(Number(match[1]) * base ** Math.max(0, power));
}
