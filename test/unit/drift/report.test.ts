import test from "ava";
import {
  buildInventory,
  digestOfImageId,
  nextReport,
  parseReport,
  renderReport,
  reportTable,
  summarizeChange,
  tagMovedMessage,
  type CheckResult,
  type DriftReport,
} from "../../../src/drift/index.ts";
import type { ManifestTree } from "../../../src/registry/index.ts";

// The drift report: what a scan keeps, clears and announces; its text; the inventory.

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const [PIN, NEW, NEWER, OTHER] = ["a", "b", "c", "d"].map(digest) as [
  string,
  string,
  string,
  string,
];
const TAG = "127.0.0.1:5000/shop/web:1.4";
const moved = (d: string): CheckResult => ({ tag: TAG, pinned: PIN, outcome: { digest: d } });
const down: CheckResult = {
  tag: TAG,
  pinned: PIN,
  outcome: { error: "127.0.0.1:5000 is unreachable" },
};
const at = (minute: number) => ({
  now: `2026-12-02T10:${String(minute).padStart(2, "0")}:00.000Z`,
  by: "pod-a",
});

test("nextReport: a moved tag is news once; later scans keep its first-seen time", (t) => {
  const first = nextReport(undefined, [moved(NEW)], at(0));
  t.is(first.news.length, 1);
  t.like(first.report.moved[0], { tag: TAG, pinned: PIN, current: NEW, firstSeen: at(0).now });
  const second = nextReport(first.report, [moved(NEW)], at(1));
  t.deepEqual(second.news, []);
  t.like(second.report.moved[0], { firstSeen: at(0).now, lastChecked: at(1).now });
  t.is(second.report.checked, 1);
});

test("nextReport: a new digest of a moved tag is news again; the tag's first-seen time stays", (t) => {
  const first = nextReport(undefined, [moved(NEW)], at(0)).report;
  const again = nextReport(first, [moved(NEWER)], at(5));
  t.is(again.news.length, 1);
  t.like(again.report.moved[0], { current: NEWER, firstSeen: at(0).now, lastChecked: at(5).now });
});

test("nextReport: an approval (the pin is the registry's digest) clears the entry", (t) => {
  const first = nextReport(undefined, [moved(NEW)], at(0)).report;
  const approved = nextReport(first, [{ tag: TAG, pinned: NEW, outcome: { digest: NEW } }], at(1));
  t.deepEqual(approved.report.moved, []);
  t.deepEqual(approved.news, []);
  // A new pin that is still not the registry's digest starts over.
  const repinned = nextReport(
    first,
    [{ tag: TAG, pinned: OTHER, outcome: { digest: NEW } }],
    at(2),
  );
  t.like(repinned.report.moved[0], { pinned: OTHER, firstSeen: at(2).now });
  t.is(repinned.news.length, 1);
});

test("nextReport: an unreachable registry is never drift, and keeps a moved entry as it was", (t) => {
  const none = nextReport(undefined, [down], at(0));
  t.deepEqual(none.report.moved, []);
  t.deepEqual(none.report.unreachable, [
    { tag: TAG, error: "127.0.0.1:5000 is unreachable", since: at(0).now },
  ]);
  const first = nextReport(undefined, [moved(NEW)], at(0)).report;
  const kept = nextReport(first, [down], at(1));
  t.like(kept.report.moved[0], {
    current: NEW,
    lastChecked: at(0).now,
    unreachable: "127.0.0.1:5000 is unreachable",
  });
  t.deepEqual(kept.news, []);
  const still = nextReport(kept.report, [down], at(2));
  t.is(still.report.unreachable[0]?.since, at(1).now);
  const back = nextReport(still.report, [moved(NEW)], at(3));
  t.is(back.report.moved[0]?.unreachable, undefined);
  t.deepEqual(back.report.unreachable, []);
  t.deepEqual(back.news, []);
});

const report: DriftReport = {
  scannedAt: at(3).now,
  scannedBy: "pod-a",
  checked: 12,
  moved: [
    {
      tag: TAG,
      pinned: PIN,
      current: NEW,
      firstSeen: at(0).now,
      lastChecked: at(3).now,
      change: {
        summary: "linux/amd64: the pinned image's 2 layers with 1 layer added on top",
        layersAdded: 1,
        layersRemoved: 0,
      },
      workloads: [{ namespace: "shop", kind: "Deployment", name: "web", running: [PIN] }],
    },
  ],
  unreachable: [{ tag: "ghcr.io/acme/api:2", error: "ghcr.io is unreachable", since: at(2).now }],
};

test("the report's text reads back as it was written", (t) => {
  const text = renderReport(report);
  t.regex(text, /^# digestpin drift report/);
  t.deepEqual(parseReport(text), report);
  t.is(parseReport("moved: 3\n"), "moved: not a list of moved tags");
  t.regex(parseReport("[1") as string, /^not YAML/);
});

test("the table: one row per moved tag with its change and workloads, then the unreachable tags", (t) => {
  t.deepEqual(reportTable(report), [
    "TAG                          PINNED               REGISTRY             FIRST SEEN                LAST CHECKED",
    `127.0.0.1:5000/shop/web:1.4  sha256:aaaaaaaaaaaa  sha256:bbbbbbbbbbbb  ${at(0).now}  ${at(3).now}`,
    "  change   linux/amd64: the pinned image's 2 layers with 1 layer added on top",
    "  used by  Deployment shop/web  runs the pin",
    "",
    "could not check 1 tag:",
    `  ghcr.io/acme/api:2: ghcr.io is unreachable (since ${at(2).now})`,
    "",
    `1 moved of 12 checked at ${at(3).now} by pod-a`,
  ]);
  t.deepEqual(reportTable({ ...report, moved: [], unreachable: [] }), [
    `no pinned tag moved (12 checked at ${at(3).now})`,
  ]);
});

test("the TagMoved message names the tag, both digests, the users and the commands", (t) => {
  const message = tagMovedMessage(report.moved[0]!);
  t.true(message.startsWith(`${TAG} moved: pinned to ${PIN}, the registry now serves ${NEW}.`));
  t.regex(message, /Used by Deployment shop\/web\./);
  t.regex(message, /digestpin approve 127\.0\.0\.1:5000\/shop\/web:1\.4 --digest sha256:b{64}/);
});

test("the inventory: templates before Pods exist, Pods under their Deployment with the digest they run", (t) => {
  const deployment = {
    kind: "Deployment",
    metadata: { namespace: "shop", name: "web" },
    spec: { template: { spec: { containers: [{ name: "web", image: `${TAG}@${PIN}` }] } } },
  };
  const pod = (name: string, imageID: string) => ({
    metadata: {
      namespace: "shop",
      name,
      labels: { "pod-template-hash": "5d8f7c" },
      ownerReferences: [{ kind: "ReplicaSet", name: "web-5d8f7c", controller: true }],
    },
    spec: { containers: [{ name: "web", image: TAG }] },
    status: { containerStatuses: [{ name: "web", image: TAG, imageID }] },
  });
  const bare = {
    metadata: { namespace: "dev", name: "debug" },
    spec: { containers: [{ name: "c", image: "127.0.0.1:5000/shop/web:1.4" }] },
  };
  const templatesOnly = buildInventory([deployment], []);
  t.deepEqual(templatesOnly.get(TAG), [
    { namespace: "shop", kind: "Deployment", name: "web", running: [] },
  ]);
  const inventory = buildInventory(
    [deployment],
    [
      pod("web-5d8f7c-x", `127.0.0.1:5000/shop/web@${PIN}`),
      pod("web-5d8f7c-y", `docker-pullable://x@${NEW}`),
      bare,
    ],
  );
  t.deepEqual(inventory.get(TAG), [
    { namespace: "dev", kind: "Pod", name: "debug", running: [] },
    { namespace: "shop", kind: "Deployment", name: "web", running: [PIN, NEW] },
  ]);
  t.is(
    buildInventory(
      [],
      [{ metadata: {}, spec: { containers: [{ name: "c", image: "Not Valid" }] } }],
    ).size,
    0,
  );
  t.is(digestOfImageId(""), undefined);
  t.is(digestOfImageId("sha256:abc"), "sha256:abc");
});

test("the change summary: how the layers relate per platform, platforms new and gone", (t) => {
  const image = (platform: string, layers: string[]) => ({
    platform,
    digest: digest("9"),
    configDigest: undefined,
    annotations: {},
    layers: layers.map((l) => ({
      digest: digest(l),
      size: 10,
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    })),
  });
  const tree = (images: ReturnType<typeof image>[], index = true): ManifestTree => ({
    digest: digest("8"),
    mediaType: "application/vnd.oci.image.index.v1+json",
    index,
    annotations: {},
    images,
  });
  const change = summarizeChange(
    tree([image("linux/amd64", ["1", "2"]), image("linux/arm64", ["1"])]),
    tree([image("linux/amd64", ["1", "2", "3"]), image("linux/s390x", ["1"])]),
  );
  t.is(
    change.summary,
    "linux/amd64: the pinned image's 2 layers with 1 layer added on top; linux/s390x: new platform; linux/arm64: platform gone",
  );
  t.is(change.layersAdded, 1);
  t.is(change.layersRemoved, 0);
});
