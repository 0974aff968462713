import type { YAMLError } from "yaml";

/** What yaml's syntax errors mean to someone editing a policy, by the error's code. */
const EXPLAINED: Partial<Record<YAMLError["code"], string>> = {
  BLOCK_IN_FLOW: "a block mapping or list cannot go inside [ ] or { }: write it on its own lines",
  MULTILINE_IMPLICIT_KEY:
    "a key must be on one line (a value without its `key:`, or a missing `:`?)",
  TAB_AS_INDENT: "YAML is indented with spaces, not tabs",
  MULTIPLE_DOCS: "only one document here: remove the `---` and what follows, or split the file",
  KEY_OVER_1024_CHARS: "a key is longer than 1024 characters",
  BAD_DQ_ESCAPE:
    "a \\\\ escape in a double-quoted string is not valid: write \\\\\\\\ for a backslash",
  DUPLICATE_KEY: "a key is written twice",
  NON_STRING_KEY: "keys must be strings",
  BAD_ALIAS: "an alias (*name) names no anchor (&name) before it",
  RESOURCE_EXHAUSTION: "the document expands into too much (aliases): write it out",
};

/**
 * A YAML syntax error as a policy issue's message: "YAML syntax: " and what it means when the
 * code is one people meet, else the parser's own sentence (its code frame never included).
 */
export function yamlProblem(error: YAMLError): string {
  if (error.code === "MISSING_CHAR") {
    const what = error.message.includes("quote")
      ? "quote"
      : (/[\]}]/.exec(error.message)?.[0] ?? "quote or bracket");
    return `YAML syntax: a closing ${what} is missing`;
  }
  const explained = EXPLAINED[error.code];
  const sentence = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? "";
  return `YAML syntax: ${explained ?? sentence.charAt(0).toLowerCase() + sentence.slice(1)}`;
}
