import { isScalar, Scalar, type Document } from "yaml";
import { pointerSegments } from "../manifests.ts";

/** An image to write at a JSON pointer of a document. */
export interface ImageFix {
  readonly document: Document;
  /** `/spec/containers/0/image`, from the document's root. */
  readonly pointer: string;
  readonly image: string;
}

/**
 * `text` with each fix applied in place: only the image strings change, written in the quoting
 * they had (plain, single or double quotes; JSON stays JSON). Everything else stays as it was.
 */
export function applyFixes(text: string, fixes: readonly ImageFix[]): string {
  const edits = fixes.flatMap((fix) => {
    const node = fix.document.getIn(pointerSegments(fix.pointer), true);
    if (!isScalar(node) || node.range === undefined || node.range === null) return [];
    return [{ start: node.range[0], end: node.range[1], text: quoted(node, fix.image) }];
  });
  let result = text;
  for (const edit of edits.toSorted((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  return result;
}

/** An image reference has no spaces, quotes or leading indicators: plain stays plain. */
function quoted(node: Scalar, image: string): string {
  switch (node.type) {
    case Scalar.QUOTE_SINGLE:
      return `'${image.replace(/'/g, "''")}'`;
    case Scalar.PLAIN:
      return /^[A-Za-z0-9][^\s#'"]*$/.test(image) ? image : JSON.stringify(image);
    default:
      return JSON.stringify(image);
  }
}
