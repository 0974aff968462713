import test from "ava";
import { parseReference } from "../../../src/reference/index.ts";
import { decide, nameAsWritten, rewriteImage } from "../../../src/policy/index.ts";
import { D, decisionPolicy, digest } from "./fixtures.ts";

test("the name is kept as the user spelled it", (t) => {
  t.is(nameAsWritten("busybox"), "busybox");
  t.is(nameAsWritten("busybox:1.36"), "busybox");
  t.is(nameAsWritten("docker.io/library/busybox:1.36"), "docker.io/library/busybox");
  t.is(nameAsWritten("localhost:5000/app"), "localhost:5000/app");
  t.is(nameAsWritten("localhost:5000/app:v1"), "localhost:5000/app");
  t.is(nameAsWritten(`[::1]:5000/app:v1@${D}`), "[::1]:5000/app");
});

test("tag-and-digest writes name:tag@digest, the implicit tag made explicit", (t) => {
  const rewrite = (image: string) => rewriteImage(image, parseReference(image), D);
  t.is(rewrite("busybox:1.36"), `busybox:1.36@${D}`);
  t.is(rewrite("busybox"), `busybox:latest@${D}`);
  t.is(
    rewrite("index.docker.io/library/busybox:1.36"),
    `index.docker.io/library/busybox:1.36@${D}`,
  );
  t.is(rewrite("localhost:5000/app:v1"), `localhost:5000/app:v1@${D}`);
});

test("digest writes name@digest", (t) => {
  const rewrite = (image: string) => rewriteImage(image, parseReference(image), D, "digest");
  t.is(rewrite("busybox:1.36"), `busybox@${D}`);
  t.is(rewrite("localhost:5000/app:v1"), `localhost:5000/app@${D}`);
});

test("decide() writes per the rewrite setting and keeps the spelling", (t) => {
  const context = { namespace: "default", dryRun: false };
  const cases: [string, string, string][] = [
    ["", "busybox:1.36", `busybox:1.36@${D}`],
    ["", "docker.io/library/busybox:1.36", `docker.io/library/busybox:1.36@${D}`],
    ["", "library/busybox:1.36", `library/busybox:1.36@${D}`],
    ["rewrite: digest\n", "busybox:1.36", `busybox@${D}`],
    ["", "busybox", `busybox:latest@${digest("1")}`],
  ];
  for (const [settings, image, expected] of cases) {
    const observed = { digest: image === "busybox" ? digest("1") : D };
    const result = decide(image, context, decisionPolicy(settings), observed);
    t.is(result.action === "mutate" ? result.image : result.action, expected, image);
  }
});
