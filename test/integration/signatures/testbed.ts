import { RegistryReader } from "../../../src/registry/registry-reader.ts";
import {
  parsePublicKey,
  SignatureVerifier,
  type SignatureCheck,
  type TrustedKey,
} from "../../../src/signatures/index.ts";
import {
  createCosign,
  type Cosign,
  type CosignKeyPair,
  type CosignTool,
} from "../../harness/cosign.ts";
import { teardownList, type SuiteHooks } from "../../harness/kube-shared.ts";
import { registryEntries } from "../../helpers/resolver-for.ts";
import {
  createCrane,
  startRegistry,
  type Crane,
  type Registry,
  type RegistryAuth,
} from "../../harness/testbed.ts";

/** A registry, crane, the real cosign and its QA and stranger key pairs, for a test file. */
export interface SignaturesTestbed {
  readonly registry: Registry;
  readonly crane: Crane;
  readonly cosign: Cosign;
  readonly qa: CosignKeyPair & { readonly key: TrustedKey };
  readonly stranger: CosignKeyPair & { readonly key: TrustedKey };
  /** Pushes a random image to `repository:tag` and re-pushes the tag: the new digest. */
  readonly movedTag: (repository: string) => Promise<string>;
  /**
   * digestpin's verification of `repository@digest` against `keys`, read as the registry's
   * `reader` (token auth) or anonymously.
   */
  readonly verify: (
    repository: string,
    digest: string,
    keys: readonly TrustedKey[],
    as?: "reader" | "anonymous",
  ) => Promise<SignatureCheck>;
}

/**
 * Starts the testbed before a file's tests: the registry in `auth` mode (crane and cosign push
 * as its admin; digestpin reads anonymously, or as the pull-only `reader` with token auth).
 */
export function signaturesTestbed(
  test: SuiteHooks,
  tool: CosignTool,
  auth: RegistryAuth = "none",
): () => SignaturesTestbed {
  const suite = teardownList();
  let shared: SignaturesTestbed | undefined;
  test.before(async () => {
    const registry = await startRegistry(suite, { auth });
    const crane = await createCrane(suite, registry);
    const cosign = await createCosign(suite, crane, tool);
    const [qa, stranger] = await Promise.all([cosign.generateKeyPair(), cosign.generateKeyPair()]);
    const reader = new RegistryReader({ registries: registryEntries(registry) });
    suite.teardown(() => reader.close());
    const credential = registry.users.find((u) => u.username === "reader");
    const keychain = () => credential;
    let tags = 0;
    shared = {
      registry,
      crane,
      cosign,
      qa: { ...qa, key: parsePublicKey(qa.publicKeyPem, "qa") },
      stranger: { ...stranger, key: parsePublicKey(stranger.publicKeyPem, "stranger") },
      movedTag: async (repository) => {
        const ref = registry.ref(`${repository}:${++tags}`);
        await crane.pushRandomImage(ref);
        return (await crane.repush(ref)).digest;
      },
      // A fresh verifier each time: these tests are about what the registry holds, not the cache.
      verify: (repository, digest, keys, as = "reader") =>
        new SignatureVerifier({ reader }).verify(
          { registry: registry.host, repository },
          digest,
          keys,
          { keychain: as === "reader" ? keychain : () => undefined, deadline: Date.now() + 30_000 },
        ),
    };
  });
  test.after.always(() => suite.run());
  return () => {
    if (shared === undefined) throw new Error("the signatures testbed did not start");
    return shared;
  };
}
