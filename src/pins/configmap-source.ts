import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { watchConfigMaps, type ConfigMapWatch, type EventRecorder } from "../kube/index.ts";
import { silentLogger, type Logger } from "../observability/index.ts";
import {
  PolicyAssembler,
  collectGarbage,
  configMapSource,
  DocumentCache,
  DocumentParser,
  PINS_KEY,
  PINS_LABEL_SELECTOR,
  POLICY_CONFIGMAP,
  POLICY_KEY,
  PolicyHolder,
  unreadable,
  type DocumentResult,
  type Policy,
  type PolicyHolderOptions,
  type PolicyIssue,
  type PolicyListener,
  type PolicySource,
} from "../policy/index.ts";
import { InvalidPolicyReporter } from "./policy-events.ts";

export interface ConfigMapSourceOptions extends PolicyHolderOptions {
  readonly kubeConfig: KubeConfig;
  /** The webhook's namespace, where the policy and pins ConfigMaps live. */
  readonly namespace: string;
  /** The policy ConfigMap (key policy.yaml); default digestpin-policy. */
  readonly policyConfigMap?: string;
  /** Where rejected edits are reported as Warning Events (reason InvalidPolicy). */
  readonly events?: EventRecorder;
  /** Changes arriving within this many milliseconds are merged once (default 25). */
  readonly debounceMs?: number;
  readonly logger?: Logger;
}

/**
 * The policy from ConfigMaps in the webhook's namespace, followed with two informers (watches,
 * not polling): the policy ConfigMap, and every ConfigMap labelled digestpin.dev/pins=true.
 * Each ConfigMap is parsed once per resourceVersion (a large one in a worker thread); after a
 * change only the pins of the ConfigMaps that changed are merged again (PolicyAssembler), and
 * the result is swapped in whole. An invalid change keeps the policy in force, and is
 * logged, counted and reported as a Warning Event on the ConfigMaps concerned.
 */
export class ConfigMapPolicySource implements PolicySource {
  readonly #options: ConfigMapSourceOptions;
  readonly #holder: PolicyHolder;
  #cache = new DocumentCache();
  #assembler = new PolicyAssembler();
  readonly #parser = new DocumentParser();
  /** Merges run one after the other (a large ConfigMap is parsed in a worker meanwhile). */
  #queue: Promise<void> = Promise.resolve();
  readonly #policyName: string;
  readonly #logger: Logger;
  readonly #policyWatch: ConfigMapWatch;
  readonly #pinsWatch: ConfigMapWatch;
  #timer: NodeJS.Timeout | undefined;
  /** The resourceVersion of each ConfigMap merged last; undefined before the first merge. */
  #applied: ReadonlyMap<string, string> | undefined;
  #started = false;
  readonly #reporter: InvalidPolicyReporter | undefined;

  constructor(options: ConfigMapSourceOptions) {
    this.#options = options;
    this.#holder = new PolicyHolder(options);
    this.#policyName = options.policyConfigMap ?? POLICY_CONFIGMAP;
    this.#logger = options.logger ?? silentLogger();
    this.#reporter =
      options.events === undefined
        ? undefined
        : new InvalidPolicyReporter(options.events, options.namespace);
    const common = {
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      onChange: () => {
        this.#schedule();
      },
      logger: this.#logger,
    };
    this.#policyWatch = watchConfigMaps({
      ...common,
      fieldSelector: `metadata.name=${this.#policyName}`,
    });
    this.#pinsWatch = watchConfigMaps({ ...common, labelSelector: PINS_LABEL_SELECTOR });
  }

  current(): Policy | undefined {
    return this.#holder.current();
  }

  get generation(): number {
    return this.#holder.generation;
  }

  get issues(): readonly PolicyIssue[] {
    return this.#holder.issues;
  }

  /** ConfigMaps parsed so far (each once per resourceVersion). */
  get parses(): number {
    return this.#cache.parses;
  }

  onChange(listener: PolicyListener): () => void {
    return this.#holder.onChange(listener);
  }

  async start(): Promise<void> {
    await Promise.all([this.#policyWatch.start(), this.#pinsWatch.start()]);
    this.#started = true;
    await this.#rebuild();
  }

  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    await Promise.all([this.#policyWatch.stop(), this.#pinsWatch.stop()]);
    await this.#queue;
    await this.#parser.close();
  }

  #schedule(): void {
    if (!this.#started) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.#rebuild();
    }, this.#options.debounceMs ?? 25);
  }

  #rebuild(): Promise<void> {
    this.#queue = this.#queue.then(() => this.#merge());
    return this.#queue;
  }

  /** `again`: the ConfigMaps that changed, when everything is read whole once more. */
  async #merge(again?: readonly V1ConfigMap[]): Promise<void> {
    if (!this.#policyWatch.synced || !this.#pinsWatch.synced) return;
    const policyMap = this.#policyWatch.list().find((cm) => nameOf(cm) === this.#policyName);
    const pinMaps = this.#pinsWatch
      .list()
      .filter((cm) => nameOf(cm) !== this.#policyName)
      .toSorted((a, b) => nameOf(a).localeCompare(nameOf(b)));
    const versions = new Map(
      [policyMap, ...pinMaps].flatMap((cm) =>
        cm === undefined ? [] : [[nameOf(cm), cm.metadata?.resourceVersion ?? ""] as const],
      ),
    );
    if (again === undefined && this.#applied !== undefined && sameVersions(versions, this.#applied))
      return;
    const changed =
      again ??
      [policyMap, ...pinMaps].filter(
        (cm): cm is V1ConfigMap =>
          cm !== undefined && this.#applied?.get(nameOf(cm)) !== cm.metadata?.resourceVersion,
      );
    this.#applied = versions;
    this.#cache.retain(new Set(versions.keys()));
    // While no policy is served nothing can stall: documents are checked at once, and the
    // worker (with its memory) is started by the first edit.
    const atOnce = this.#holder.current() === undefined;
    const [policy, ...pins] = await Promise.all([
      policyMap === undefined
        ? unreadable(
            this.#source(this.#policyName),
            `the policy ConfigMap does not exist; create it with key ${POLICY_KEY}`,
          )
        : this.#parse(policyMap, POLICY_KEY, "Policy", atOnce),
      ...pinMaps.map((cm) => this.#parse(cm, PINS_KEY, "Pins", atOnce)),
    ]);
    // A first load's garbage, collected before merging and after (see collectGarbage): nothing
    // is served yet, so this stalls no review, and an idle webhook would keep it for good.
    if (atOnce) collectGarbage();
    const assembled = this.#assembler.assemble(policy, pins);
    if (!assembled.ok && again === undefined && this.#parser.differences > 0) {
      // Pins read as differences may carry the line they had before: read everything whole once
      // more so that every issue names the right line.
      this.#parser.forget();
      this.#cache = new DocumentCache();
      this.#assembler = new PolicyAssembler();
      await this.#merge(changed);
      return;
    }
    if (assembled.ok) {
      this.#holder.accept(assembled.policy);
      if (atOnce) collectGarbage();
      return;
    }
    this.#holder.reject(assembled.issues);
    const present = [policyMap, ...pinMaps].filter((cm) => cm !== undefined);
    this.#reporter?.report(assembled.issues, present, changed);
  }

  #parse(
    configMap: V1ConfigMap,
    key: string,
    expect: "Policy" | "Pins",
    atOnce: boolean,
  ): Promise<DocumentResult> {
    const name = nameOf(configMap);
    const source = this.#source(name);
    return this.#cache.load(name, configMap.metadata?.resourceVersion ?? "", async () => {
      const text = configMap.data?.[key];
      return text === undefined
        ? unreadable(source, `has no key ${key}; put the ${expect} document there`)
        : atOnce
          ? this.#parser.documentAtOnce(text, source, expect)
          : this.#parser.document(text, source, expect);
    });
  }

  #source(name: string): string {
    return configMapSource(this.#options.namespace, name);
  }
}

function nameOf(configMap: V1ConfigMap): string {
  return configMap.metadata?.name ?? "";
}

function sameVersions(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, version] of a) if (b.get(name) !== version) return false;
  return true;
}
