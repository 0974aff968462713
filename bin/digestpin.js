#!/usr/bin/env node
/* global process */
// The npm package's entry (digestpin and kubectl-digestpin): checks the Node.js version first,
// in syntax any Node.js parses, then loads the program (dist/cli.js). Keep MINIMUM_NODE equal
// to package.json's engines.node and .nvmrc (a unit test checks).
var MINIMUM_NODE = 24;
var major = Number(String(process.versions.node).split(".")[0]);
if (!(major >= MINIMUM_NODE)) {
  process.stderr.write(
    "digestpin: needs Node.js " +
      MINIMUM_NODE +
      " or newer, but " +
      process.execPath +
      " is Node.js " +
      process.version +
      "; install Node.js " +
      MINIMUM_NODE +
      " (https://nodejs.org) and run digestpin with it\n",
  );
  process.exit(2);
}
import("../dist/cli.js").catch(function (error) {
  process.stderr.write("digestpin: cannot start: " + (error && error.message) + "\n");
  process.exit(2);
});
