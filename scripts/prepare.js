/* global process, console */
// npm's `prepare` (package.json): builds dist/ in a checkout, so that `npm install -g <checkout>`
// and `npm install` of a git URL give a working digestpin. npm links a checkout without
// installing its dependencies, so they are installed here first when TypeScript is missing.
// Published packages carry dist/ already (prepack builds it) and never run this.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const tsc = "node_modules/typescript/bin/tsc";

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  if (result.status !== 0) {
    console.error(`digestpin prepare: ${command} ${args.join(" ")} failed`);
    process.exit(result.status ?? 1);
  }
}

if (!existsSync(tsc)) {
  // The npm running this may be installing globally: this install is the checkout's own.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^npm_config_(global|prefix|location|install_links|omit|production)$/i.test(key),
    ),
  );
  run("npm", ["install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund"], env);
}
run(process.execPath, [tsc, "-p", "tsconfig.build.json"]);
