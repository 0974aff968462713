import test from "ava";
import { registryEntries } from "../../helpers/resolver-for.ts";
import { teardownList } from "../../harness/kube-shared.ts";
import { createCrane, startRegistry, type Registry } from "../../harness/testbed.ts";
import { assertRow, runRow, type RowFault, type RowImages } from "./matrix.ts";
import { secretsIn } from "./secrets.ts";

// Registry faults matrix, token rows: the real registry in token mode with the testbed's Docker
// token server, whose settings each row changes (expired, invalid tokens; a wrong password).
// Every row also scans what the webhook logged for the passwords and tokens in play.

const suite = teardownList();
test.after.always(() => suite.run());

let registry: Registry | undefined;
let images: RowImages | undefined;

test.before(async () => {
  registry = await startRegistry(suite, { auth: "token" });
  const crane = await createCrane(suite, registry);
  const [pinned, drifted, unpinned] = await Promise.all([
    crane.pushRandomImage(registry.ref("tokens/pinned:1")),
    crane.pushRandomImage(registry.ref("tokens/drifted:1")),
    crane.pushRandomImage(registry.ref("tokens/unpinned:1")),
  ]);
  const moved = await crane.repush(registry.ref("tokens/drifted:1"));
  images = {
    pinned: { image: registry.ref("tokens/pinned:1"), pin: pinned.digest },
    drifted: { image: registry.ref("tokens/drifted:1"), pin: drifted.digest, served: moved.digest },
    unpinned: { image: registry.ref("tokens/unpinned:1"), served: unpinned.digest },
  };
});

const reader = () => registry!.users.find((u) => u.username === "reader")!;

const rows: {
  subject: string;
  fault: RowFault;
  setup: (r: Registry) => void;
  password?: string;
}[] = [
  {
    subject: "none (token auth, valid credentials and tokens)",
    fault: { kind: "honest" },
    setup: () => undefined,
  },
  {
    subject: "expired tokens (token server issues tokens that expired 2 min ago)",
    fault: { kind: "error", code: "ERR_REGISTRY_UNAUTHORIZED" },
    setup: (r) => {
      r.tokenServer!.settings.lifetime = -120; // beyond the registry's 60 s leeway
    },
  },
  {
    subject: "invalid tokens (token server answers 200 with a token that is no JWT)",
    fault: { kind: "error", code: "ERR_REGISTRY_UNAUTHORIZED" },
    setup: (r) => {
      r.tokenServer!.settings.onRequest = () => ({
        status: 200,
        body: JSON.stringify({ token: "not.a.jwt", expires_in: 300 }),
      });
    },
  },
  {
    subject: "wrong password (token server refuses the credentials)",
    fault: { kind: "error", code: "ERR_REGISTRY_UNAUTHORIZED" },
    setup: () => undefined,
    password: "wrong-password-7f3a9c",
  },
];

for (const row of rows) {
  test.serial(`registry fault: ${row.subject}`, async (t) => {
    const r = registry!;
    const settings = r.tokenServer!.settings;
    const saved = { lifetime: settings.lifetime, onRequest: settings.onRequest };
    row.setup(r);
    t.teardown(() => {
      if (saved.lifetime === undefined) delete settings.lifetime;
      else settings.lifetime = saved.lifetime;
      if (saved.onRequest === undefined) delete settings.onRequest;
      else settings.onRequest = saved.onRequest;
    });
    const issuedBefore = r.tokenServer!.issued();
    const credential = { username: reader().username, password: row.password ?? reader().password };
    const options = {
      registries: registryEntries(r),
      images: images!,
      fault: row.fault,
      keychain: (host: string) => (host === r.host ? credential : undefined),
      budgetMs: 4000,
    };
    const result = await runRow(options);
    assertRow(t, import.meta.url, row.subject, options, result);
    if (row.fault.kind === "error" && row.password === undefined)
      t.true(
        r.tokenServer!.issued() > issuedBefore,
        "tokens were issued, and refused by the registry",
      );
    t.deepEqual(
      secretsIn(result.logs, [credential.password, ...r.users.map((u) => u.password)]),
      [],
    );
  });
}
