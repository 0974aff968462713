import type { InvalidReferenceError } from "./errors.ts";

/** An image reference after Docker normalization (`busybox` → docker.io/library/busybox:latest). */
export interface ImageReference {
  /**
   * "docker.io" for Docker Hub (also when written "index.docker.io" or left out), otherwise the
   * registry exactly as written (`localhost:5000`, `[::1]:5000`, `Registry.example.com`). Empty in
   * the one case distribution/reference leaves a name without one: a first component with a "."
   * that is no host name but a valid path component (`foo_bar.com/app`).
   */
  readonly registry: string;
  /** The repository path; Docker Hub's official images get "library/" (`library/busybox`). */
  readonly repository: string;
  /** The tag given; "latest" when neither tag nor digest is given; null with a digest only. */
  readonly tag: string | null;
  /** `algorithm:hex`, or null. */
  readonly digest: string | null;
}

export type ParseResult =
  | { readonly ok: true; readonly reference: ImageReference }
  | { readonly ok: false; readonly error: InvalidReferenceError };
