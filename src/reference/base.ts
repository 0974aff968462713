/** Where an image declares its base: the OCI annotations of its index or manifest, or a config label. */
export type BaseSource = "index annotation" | "manifest annotation" | "config label";

/** What an image says it was built `FROM`. */
export interface BaseDeclaration {
  /** The reference as declared (`docker.io/library/alpine:3.20`). */
  readonly name: string;
  /** The base's digest as declared; undefined when only the name is. */
  readonly digest: string | undefined;
  readonly source: BaseSource;
  /** The platform whose manifest or config says so; undefined for an index or lone image. */
  readonly platform: string | undefined;
}

/** Declarations with the same name and digest once (platforms differing only in source). */
export function distinctBases(bases: readonly BaseDeclaration[]): BaseDeclaration[] {
  const seen = new Map<string, BaseDeclaration>();
  for (const base of bases) {
    const key = `${base.name}@${base.digest ?? ""}`;
    if (!seen.has(key)) seen.set(key, base);
  }
  return [...seen.values()];
}
