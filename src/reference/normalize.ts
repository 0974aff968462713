import { quote } from "../errors.ts";
import {
  DEFAULT_REGISTRY,
  LEGACY_DEFAULT_REGISTRY,
  LOCALHOST,
  MAX_PATH_LENGTH,
  OFFICIAL_NAMESPACE,
  PATH_COMPONENT,
} from "./grammar.ts";
import { pathProblem } from "./path.ts";
import { isRegistry, registryProblem } from "./registry.ts";

export interface NormalizedName {
  readonly registry: string;
  readonly repository: string;
}

/**
 * Splits a name (the part before ":tag" and "@digest") into registry and repository by Docker's
 * rules, and validates both. The first "/"-separated component is the registry when it is
 * "localhost", contains "." or ":", or has an uppercase letter; otherwise the name is on Docker
 * Hub. "index.docker.io" becomes "docker.io", and a one-component Docker Hub path gets
 * "library/". Returns why the name is invalid as a string.
 */
export function normalizeName(name: string): NormalizedName | string {
  // Built only for a message: quoting every valid name cost a fifth of parsing it.
  const where = (): string => `name ${quote(name)}`;
  if (name === "") return `${where()}: the repository name is missing`;

  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let registry = DEFAULT_REGISTRY;
  let repository = name;
  if (slash !== -1 && (first === LOCALHOST || looksLikeRegistry(first))) {
    registry = first === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : first;
    repository = rest;
  }
  let implied = "";
  if (registry === DEFAULT_REGISTRY && !repository.includes("/")) {
    implied = OFFICIAL_NAMESPACE;
    repository = implied + repository;
  }

  if (!isRegistry(registry)) {
    // distribution/reference then reads the whole name as a path without a registry, which a
    // first component like "foo_bar.com" passes; any other invalid registry is an error.
    if (PATH_COMPONENT.test(registry)) {
      registry = "";
      repository = name;
    } else if (
      !first.includes(".") &&
      !first.includes(":") &&
      PATH_COMPONENT.test(first.toLowerCase())
    ) {
      // Read as a registry only because of its uppercase letter: most likely a miscased path.
      return `${where()}: repository path must be lowercase`;
    } else {
      return registryProblem(registry) ?? `${where()}: invalid registry`;
    }
  }

  if (repository === "") return `${where()}: the repository path after the registry is missing`;
  const problem = pathProblem(repository);
  if (problem !== null) return `${where()}: ${problem}`;
  if (repository.length > MAX_PATH_LENGTH) {
    const note = implied === "" ? "" : ` (with the implied ${quote(implied)})`;
    return `${where()}: repository path is ${repository.length} characters long${note}, the limit is ${MAX_PATH_LENGTH}`;
  }
  return { registry, repository };
}

function looksLikeRegistry(component: string): boolean {
  return (
    component.includes(".") || component.includes(":") || component !== component.toLowerCase()
  );
}
