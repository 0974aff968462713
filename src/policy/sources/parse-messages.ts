// What the main thread (DocumentParser) and the parse worker say to each other: the checks
// asked for, the answers, and the bytes handed over.
import type { CheckedFile, DocumentKind } from "../document/index.ts";

/** A document or file to check, as sent to the worker. */
export type ParseRequest = ParseJob & { readonly id: number };

export type ParseJob =
  | {
      readonly kind: "document";
      readonly text: string;
      readonly source: string;
      readonly expect: DocumentKind;
      /** What the main thread checked at once before, so that this comes back as a difference. */
      readonly before?: string;
    }
  | {
      readonly kind: "file";
      /** The file's bytes (UTF-8): a copy of bytes costs the main thread no string of that size. */
      readonly bytes: Uint8Array;
      readonly file: string;
      readonly first: boolean;
      /** What the main thread checked at once before, so that this comes back as a difference. */
      readonly before?: Uint8Array;
    }
  | {
      /** The worker reads the file itself: its bytes never come to the main thread. */
      readonly kind: "read";
      readonly file: string;
      readonly first: boolean;
      readonly before?: Uint8Array;
    }
  | { readonly kind: "forget" };

/** The worker's answer: a result as JSON, the file's bytes as last read, or why not. */
export type ParseAnswer =
  | { readonly id: number; readonly json: string }
  | { readonly id: number; readonly unchanged: true }
  | { readonly id: number; readonly readError: string }
  | { readonly id: number; readonly failed: string };

/** What a worker's read of a file found: the file checked, that its bytes are as last read, or why it could not be read. */
export type FileRead = CheckedFile | "unchanged" | { readonly error: string };

/** The memory of `bytes` to hand to the worker, when they are all of it (none is copied). */
export function transferable(bytes: Uint8Array): ArrayBuffer[] {
  const { buffer } = bytes;
  return buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
    ? [buffer]
    : [];
}

/** UTF-8 bytes as a string, as readFile(file, "utf8") reads them. */
export function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
