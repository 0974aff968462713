import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";

// The Kubernetes client library (about 85 MB and a second to import) is loaded only by what
// talks to a cluster: every module of the CLI and of serve imported, and commands that need no
// cluster run, in a fresh process that records each module it resolves.

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const LIBRARY = "@kubernetes/client-node";

function loads(script: string): {
  before: boolean;
  after: boolean;
  statuses: number[];
  out: string;
} {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      "./test/helpers/record-resolves.ts",
      "--input-type=module",
      "-e",
      `const seen = globalThis.__resolvedSpecifiers;
       const loaded = () => [...seen].some((s) => s === "${LIBRARY}" || s.startsWith("${LIBRARY}/"));
       ${script}`,
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, KUBECONFIG: "" } },
  );
  const last = out.trim().split("\n").at(-1) ?? "";
  return { ...(JSON.parse(last) as { before: boolean; after: boolean; statuses: number[] }), out };
}

test("every src module imported and --version, parse and policy validate run: the library is not loaded", (t) => {
  const run = loads(`
    await import("./src/webhook/index.ts");
    await import("./src/drift/index.ts");
    await import("./src/pins/index.ts");
    await import("./src/tls/index.ts");
    const { dispatch } = await import("./src/cli/index.ts");
    const io = { stdout: () => {}, stderr: () => {}, env: {}, readStdin: async () => "" };
    const version = await dispatch(["--version"], io);
    const parse = await dispatch(["parse", "nginx:1.27"], io);
    const validate = await dispatch(["policy", "validate", "examples/policy.yaml"], io);
    const before = loaded();
    const { kubeLibrary } = await import("./src/kube/index.ts");
    kubeLibrary();
    console.log(JSON.stringify({ before, after: loaded(), statuses: [version, parse, validate] }));`);
  t.deepEqual(run.statuses, [0, 0, 0], run.out);
  t.false(run.before, "loaded by the CLI or serve's modules");
  t.true(run.after, "kubeLibrary() loads it (the recording works)");
});

test("the library loaded is the module an import gives (instanceof holds across both)", async (t) => {
  const { kubeLibrary, isApiException, loadKubeLibrary } =
    await import("../../../src/kube/index.ts");
  const imported = await import(LIBRARY);
  await loadKubeLibrary(); // tsx compiles a required ES module anew: tests import it first
  t.is(kubeLibrary().ApiException, imported.ApiException);
  t.true(isApiException(new imported.ApiException(404, "not found", {}, {})));
  t.false(isApiException(new Error("not found")));
});
