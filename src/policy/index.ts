// The policy, pure: the document and its readers, the decisions, and the sources that swap a
// new generation in whole. It imports only reference and errors (docs/architecture.md).
export * from "./document/index.ts";
export * from "./decide/index.ts";
export * from "./sources/index.ts";
