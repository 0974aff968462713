import { canonicalOf, nameOf, type ImageReference } from "../../reference/index.ts";
import { compileGlob, type Exemptions } from "../document/index.ts";

/** The `exempt` settings, compiled. */
export interface ExemptionMatcher {
  isExemptNamespace(namespace: string): boolean;
  /** The first `exempt.images` pattern that matches `ref`, or null. */
  exemptImagePattern(ref: ImageReference): string | null;
}

export function compileExemptions(exempt: Exemptions): ExemptionMatcher {
  const namespaces = new Set(exempt.namespaces);
  const globs = exempt.images.map(compileGlob);
  return {
    isExemptNamespace: (namespace) => namespaces.has(namespace),
    exemptImagePattern: (ref) => {
      if (globs.length === 0) return null;
      const forms = canonicalForms(ref);
      return globs.find((glob) => forms.some((form) => glob.matches(form)))?.pattern ?? null;
    },
  };
}

/**
 * What an image pattern is matched against: the canonical reference with everything it has
 * (`registry/repository:tag@digest`), and also the tag form and the digest form alone, so
 * `registry.k8s.io/pause:*` exempts `pause:3.9@sha256:…` and `…/pause@*` every digest of it.
 */
export function canonicalForms(ref: ImageReference): string[] {
  const name = nameOf(ref);
  const forms = [canonicalOf(ref)];
  if (ref.tag !== null && ref.digest !== null) {
    forms.push(`${name}:${ref.tag}`, `${name}@${ref.digest}`);
  }
  return forms;
}
