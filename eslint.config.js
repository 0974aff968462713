// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The parts of src/ and what each may import (docs/architecture.md): arrows go one way, and a
 * part is entered only through its index.ts. src/errors.ts and src/at-once.ts may be imported by
 * every part.
 */
const PARTS = {
  reference: [],
  observability: [],
  registry: ["reference", "observability"],
  layers: ["registry", "reference"],
  signatures: ["registry", "reference"],
  policy: ["reference"],
  kube: ["registry", "observability"],
  tls: ["kube", "observability"],
  pins: ["policy", "kube", "reference", "observability"],
  admission: ["policy", "registry", "layers", "reference"],
  drift: ["policy", "kube", "registry", "layers", "reference", "observability"],
  webhook: [
    "drift",
    "admission",
    "pins",
    "policy",
    "kube",
    "tls",
    "registry",
    "layers",
    "signatures",
    "reference",
    "observability",
  ],
  cli: [
    "webhook",
    "drift",
    "admission",
    "pins",
    "policy",
    "kube",
    "tls",
    "registry",
    "layers",
    "signatures",
    "reference",
    "observability",
  ],
};
/** Parts with sub-parts of their own, each entered through its index.ts, in this order. */
const SUBPARTS = {
  policy: ["document", "decide", "sources"],
};

/** no-restricted-imports patterns for the files of `part`. */
function importRules(part) {
  const allowed = PARTS[part];
  const others = Object.keys(PARTS).filter((other) => other !== part);
  return [
    ...others
      .filter((other) => !allowed.includes(other))
      .map((other) => ({
        group: [`**/${other}/**`, `**/${other}/*.ts`],
        message: `${part} may not import ${other} (docs/architecture.md: ${part} imports ${allowed.join(", ") || "nothing of digestpin's but errors.ts"})`,
      })),
    ...allowed.map((other) => ({
      group: [`**/${other}/**`, `!**/${other}/index.ts`, `!**/src/${other}/index.ts`],
      message: `import ${other} through its door, ${other}/index.ts`,
    })),
    {
      group: ["**/cli.ts"],
      message: "src/cli.ts is the program, not a module",
    },
  ];
}

/** Within a part with sub-parts: a sub-part imports only those before it, through their index. */
function subpartRules(part, sub) {
  const order = SUBPARTS[part];
  const before = order.slice(0, order.indexOf(sub));
  const after = order.slice(order.indexOf(sub) + 1);
  return [
    ...after.map((other) => ({
      group: [`../${other}/**`],
      message: `${part}/${sub} may not import ${part}/${other} (the arrows run ${order.join(" ← ")})`,
    })),
    ...before.map((other) => ({
      group: [`../${other}/**`, `!../${other}/index.ts`],
      message: `import ${part}/${other} through its door, ${part}/${other}/index.ts`,
    })),
  ];
}

const layering = [
  ...Object.keys(PARTS).map((part) => ({
    files: [`src/${part}/**/*.ts`],
    rules: { "no-restricted-imports": ["error", { patterns: importRules(part) }] },
  })),
  ...Object.entries(SUBPARTS).flatMap(([part, subs]) =>
    subs.map((sub) => ({
      files: [`src/${part}/${sub}/**/*.ts`],
      rules: {
        "no-restricted-imports": [
          "error",
          { patterns: [...importRules(part), ...subpartRules(part, sub)] },
        ],
      },
    })),
  ),
];

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "coverage/",
      "node_modules/",
      ".tools/",
      ".testbed/",
      ".run/",
      "charts/",
      "deploy/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    rules: {
      // Tests read untyped JSON from real programs; asserting on it is the point.
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
    },
  },
  ...layering,
  { files: ["**/*.js"], ...tseslint.configs.disableTypeChecked },
);
