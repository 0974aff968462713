/** Where a pod spec sits inside each kind that carries one. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ["spec"],
  PodTemplate: ["template", "spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

export const POD_CARRYING_KINDS: readonly string[] = Object.keys(POD_SPEC_PATHS);

/** The pod spec path of `kind`; own keys only, so `constructor` or `toString` is no kind. */
function specPath(kind: string): readonly string[] | undefined {
  return Object.hasOwn(POD_SPEC_PATHS, kind) ? POD_SPEC_PATHS[kind] : undefined;
}

const CONTAINER_LISTS = ["initContainers", "containers", "ephemeralContainers"] as const;

/** One image reference in an object, and where it is. */
export interface ImageSlot {
  /** JSON pointer of the image string (`/spec/containers/0/image`). */
  readonly pointer: string;
  /** Human name of the place: `containers[app]`, `volumes[data]`. */
  readonly place: string;
  readonly image: string;
}

/**
 * Every image in an object of a pod-carrying kind: containers, init containers, ephemeral
 * containers and image volumes (`volumes[].image.reference`). Unknown kinds have none.
 */
export function findImages(kind: string, object: unknown): ImageSlot[] {
  const spec = podSpecOf(kind, object);
  const base = SPEC_POINTERS[kind];
  if (spec === undefined || base === undefined) return [];
  const slots: ImageSlot[] = [];
  for (const list of CONTAINER_LISTS) {
    items(field(spec, list)).forEach((container, index) => {
      const image = field(container, "image");
      if (typeof image === "string") {
        const name = field(container, "name");
        slots.push({
          pointer: imagePointer(base, list, index),
          place: `${list}[${typeof name === "string" ? name : index}]`,
          image,
        });
      }
    });
  }
  items(field(spec, "volumes")).forEach((volume, index) => {
    const image = field(field(volume, "image"), "reference");
    if (typeof image === "string") {
      const name = field(volume, "name");
      slots.push({
        pointer: `${base}/volumes/${index}/image/reference`,
        place: `volumes[${typeof name === "string" ? name : index}]`,
        image,
      });
    }
  });
  return slots;
}

/** The JSON pointer of each kind's pod spec (`/spec/template/spec`). */
const SPEC_POINTERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(POD_SPEC_PATHS).map(([kind, path]) => [kind, "/" + path.join("/")]),
);

/** The pointers of the first containers' images, made once, by spec pointer and list. */
const IMAGE_POINTERS = new Map<string, Map<string, string[]>>();
const KEPT_POINTERS = 16;

/** The JSON pointer of a container's image (`/spec/containers/0/image`). */
function imagePointer(base: string, list: string, index: number): string {
  if (index >= KEPT_POINTERS) return `${base}/${list}/${index}/image`;
  let lists = IMAGE_POINTERS.get(base);
  if (lists === undefined) {
    lists = new Map();
    IMAGE_POINTERS.set(base, lists);
  }
  let kept = lists.get(list);
  if (kept === undefined) {
    kept = [];
    lists.set(list, kept);
  }
  return (kept[index] ??= `${base}/${list}/${index}/image`);
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The pod template (metadata and spec) of a workload; undefined for a Pod or another kind. */
export function podTemplateOf(kind: string, object: unknown): unknown {
  const path = specPath(kind);
  if (path === undefined || kind === "Pod") return undefined;
  let template: unknown = object;
  for (const key of path.slice(0, -1)) template = field(template, key);
  return template;
}

/** The pod spec inside an object of a pod-carrying kind, if it has one. */
export function podSpecOf(kind: string, object: unknown): Record<string, unknown> | undefined {
  const path = specPath(kind);
  if (path === undefined) return undefined;
  let spec: unknown = object;
  for (const key of path) spec = field(spec, key);
  return typeof spec === "object" && spec !== null ? (spec as Record<string, unknown>) : undefined;
}
