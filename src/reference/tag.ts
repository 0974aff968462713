import { quote } from "../errors.ts";
import { MAX_TAG_LENGTH, TAG } from "./grammar.ts";

const NOT_TAG_CHARACTER = /[^\w.-]/;
const WORD_START = /^\w/;

/** Why `tag` is not a valid tag, or null when it is. */
export function tagProblem(tag: string): string | null {
  if (TAG.test(tag)) return null;
  const where = `tag ${quote(tag)}`;
  if (tag === "") return `tag is empty: nothing follows ":"`;
  if (!WORD_START.test(tag)) return `${where}: must start with a letter, digit or underscore`;
  const bad = NOT_TAG_CHARACTER.exec(tag);
  if (bad !== null) {
    return `${where}: ${quote(bad[0])} is not allowed; a tag may contain only letters, digits, "_", "." and "-"`;
  }
  return `${where}: is ${tag.length} characters long, the limit is ${MAX_TAG_LENGTH}`;
}
