import { quote } from "../errors.ts";
import { PATH_COMPONENT } from "./grammar.ts";

const NOT_PATH_CHARACTER = /[^a-zA-Z0-9._-]/;
const SEPARATOR_RUN = /[._-]{2,}/g;
const VALID_RUN = /^(?:__|-+)$/;
const SEPARATOR = /[._-]/;

/** Whether every "/"-separated component of `path` follows the path-component rule. */
export function isPath(path: string): boolean {
  return path.split("/").every((component) => PATH_COMPONENT.test(component));
}

/** Why `path` is not a valid repository path, or null when it is. */
export function pathProblem(path: string): string | null {
  const components = path.split("/");
  for (const [index, component] of components.entries()) {
    if (PATH_COMPONENT.test(component)) continue;
    if (component === "") {
      if (index === 0) return `must not start with "/"`;
      if (index === components.length - 1) return `must not end with "/"`;
      return `must not contain "//"`;
    }
    if (PATH_COMPONENT.test(component.toLowerCase())) return "repository path must be lowercase";
    return componentProblem(component);
  }
  return null;
}

function componentProblem(component: string): string {
  const where = `path component ${quote(component)}`;
  const bad = NOT_PATH_CHARACTER.exec(component);
  if (bad !== null) {
    return `${where} contains ${quote(bad[0])}; only lowercase letters, digits and the separators ".", "_", "__" and "-" are allowed`;
  }
  if (SEPARATOR.test(component.charAt(0))) {
    return `${where} must start with a lowercase letter or digit`;
  }
  if (SEPARATOR.test(component.charAt(component.length - 1))) {
    return `${where} must end with a lowercase letter or digit`;
  }
  for (const [run] of component.matchAll(SEPARATOR_RUN)) {
    if (!VALID_RUN.test(run)) {
      return `${where} contains ${quote(run)}; letters and digits are joined by one ".", one "_", "__", or any number of "-"`;
    }
  }
  return "repository path must be lowercase";
}
