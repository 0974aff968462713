import test from "ava";
import { teardownList } from "../../harness/kube-shared.ts";
import {
  createCrane,
  startRegistry,
  startToxiproxy,
  type Registry,
  type Toxiproxy,
} from "../../harness/testbed.ts";
import { assertRow, runRow, type RowFault, type RowImages } from "./matrix.ts";

// Registry faults matrix, network rows: the real distribution registry behind toxiproxy, each
// row with its own proxy (fresh connections), the images pushed once with crane.

const suite = teardownList();
test.after.always(() => suite.run());

interface World {
  readonly registry: Registry;
  readonly toxiproxy: Toxiproxy;
  readonly pinned: string;
  readonly driftedPin: string;
  readonly driftedNow: string;
  readonly unpinned: string;
}
let world: World | undefined;

test.before(async () => {
  const registry = await startRegistry(suite, { auth: "none" });
  const crane = await createCrane(suite, registry);
  const [pinned, drifted, unpinned, toxiproxy] = await Promise.all([
    crane.pushRandomImage(registry.ref("faults/pinned:1")),
    crane.pushRandomImage(registry.ref("faults/drifted:1")),
    crane.pushRandomImage(registry.ref("faults/unpinned:1")),
    startToxiproxy(suite),
  ]);
  // The attack the pins answer: new content pushed under the reviewed tag.
  const moved = await crane.repush(registry.ref("faults/drifted:1"));
  world = {
    registry,
    toxiproxy,
    pinned: pinned.digest,
    driftedPin: drifted.digest,
    driftedNow: moved.digest,
    unpinned: unpinned.digest,
  };
});

/** A proxy of its own for a row, and the row's images named through it. */
async function row(name: string) {
  const w = world!;
  const proxy = await w.toxiproxy.proxy(name, w.registry.host);
  const images: RowImages = {
    pinned: { image: `${proxy.host}/faults/pinned:1`, pin: w.pinned },
    drifted: { image: `${proxy.host}/faults/drifted:1`, pin: w.driftedPin, served: w.driftedNow },
    unpinned: { image: `${proxy.host}/faults/unpinned:1`, served: w.unpinned },
  };
  const registries = [{ host: proxy.host, ca: w.registry.caPem, allowPrivateAddresses: true }];
  return { proxy, images, registries };
}

const cases: {
  subject: string;
  fault: RowFault;
  inject: (proxy: Awaited<ReturnType<typeof row>>["proxy"]) => Promise<unknown>;
  /** 1.5 s (--timeout-seconds 3) where the budget is the point; 4 s elsewhere, for a busy machine. */
  budgetMs?: number;
}[] = [
  {
    subject: "none (the real registry answers honestly)",
    fault: { kind: "honest" },
    inject: () => Promise.resolve(),
  },
  {
    subject: "latency past the budget (toxiproxy latency 4 s, budget 1.5 s)",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_TIMEOUT" },
    inject: (proxy) => proxy.latency(4000),
    budgetMs: 1500,
  },
  {
    subject: "connection resets (toxiproxy reset_peer on every connection)",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_UNREACHABLE" },
    inject: (proxy) => proxy.resetPeer(0),
  },
  {
    subject: "registry cut (toxiproxy proxy disabled: connections refused)",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_UNREACHABLE" },
    inject: (proxy) => proxy.disable(),
  },
  {
    subject: "black hole (toxiproxy timeout: data stops, nothing closes)",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_TIMEOUT" },
    inject: (proxy) => proxy.timeout(0),
    budgetMs: 1500,
  },
];

for (const { subject, fault, inject, budgetMs = 4000 } of cases) {
  test.serial(`registry fault: ${subject}`, async (t) => {
    const { proxy, images, registries } = await row(
      `row-${cases.findIndex((c) => c.subject === subject)}`,
    );
    await inject(proxy);
    const options = { registries, images, fault, budgetMs };
    const result = await runRow(options);
    assertRow(t, import.meta.url, subject, options, result);
  });
}
