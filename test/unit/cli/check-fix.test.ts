import test from "ava";
import { applyFixes } from "../../../src/cli/check/fix.ts";
import { objectsOf, parseManifests } from "../../../src/cli/manifests.ts";

// --fix changes the image strings only, in the quoting they had.

const D = `sha256:${"a".repeat(64)}`;

function fixAll(path: string, text: string, image = (old: string) => `${old}@${D}`): string {
  const file = parseManifests(path, text);
  const fixes = objectsOf(file).flatMap((object) =>
    object.images.map((slot) => ({
      document: object.document,
      pointer: slot.pointer,
      image: image(slot.image),
    })),
  );
  return applyFixes(text, fixes);
}

test("plain, single- and double-quoted images keep their style; comments and layout stay", (t) => {
  const text = `# header
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers: [{name: init, image: 'busybox:1'}]
      containers:
        - name: app   # the app
          image: "ghcr.io/acme/app:v1"  # pinned by CI
        - name: side
          image: nginx
      volumes:
        - name: data
          image: {reference: ghcr.io/acme/data:1}
`;
  t.is(
    fixAll("web.yaml", text),
    text
      .replace("'busybox:1'", `'busybox:1@${D}'`)
      .replace('"ghcr.io/acme/app:v1"', `"ghcr.io/acme/app:v1@${D}"`)
      .replace("image: nginx", `image: nginx@${D}`)
      .replace("reference: ghcr.io/acme/data:1}", `reference: ghcr.io/acme/data:1@${D}}`),
  );
});

test("JSON stays JSON; List items and every document of a stream are found", (t) => {
  const json = `{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "a:1"}]}}\n  ]\n}\n`;
  const fixed = fixAll("list.json", json);
  t.deepEqual(JSON.parse(fixed), JSON.parse(json.replace('"a:1"', `"a:1@${D}"`)));
  t.is(fixed, json.replace('"a:1"', `"a:1@${D}"`));

  const stream =
    "kind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: a:1}]}\n---\nkind: Service\n---\nkind: CronJob\nmetadata: {name: b}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: b:2}]}}}}}\n";
  const objects = objectsOf(parseManifests("s.yaml", stream));
  t.deepEqual(
    objects.map((o) => [o.name, o.images.map((i) => i.pointer)]),
    [
      ["Pod/a", ["/spec/containers/0/image"]],
      ["CronJob/b", ["/spec/jobTemplate/spec/template/spec/containers/0/image"]],
    ],
  );
  t.is(
    fixAll("s.yaml", stream),
    stream.replace("image: a:1", `image: a:1@${D}`).replace("image: b:2", `image: b:2@${D}`),
  );
});
