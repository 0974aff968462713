import {
  ApiException,
  type KubernetesObject,
  type KubernetesObjectApi,
} from "@kubernetes/client-node";
import { stringify } from "yaml";

/** An object as written in a manifest: plain data (the client's classes are for what it reads). */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

/** Containers by name → image, in order. */
export type Images = Readonly<Record<string, string>>;

export interface PodImages {
  readonly containers: Images;
  readonly initContainers?: Images;
  /** Image volumes: volume name → image reference (mounted by no container). */
  readonly imageVolumes?: Images;
}

const containerList = (images: Images = {}) =>
  Object.entries(images).map(([name, image]) => ({ name, image }));

/** A pod spec with these images, one that needs no node to be accepted. */
export function podSpec(
  images: PodImages,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...(images.initContainers !== undefined && {
      initContainers: containerList(images.initContainers),
    }),
    containers: containerList(images.containers),
    ...(images.imageVolumes !== undefined && {
      volumes: Object.entries(images.imageVolumes).map(([name, reference]) => ({
        name,
        image: { reference },
      })),
    }),
    ...extra,
  };
}

export function podManifest(
  name: string,
  namespace: string | undefined,
  images: PodImages,
  extra: Record<string, unknown> = {},
): Manifest {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, ...(namespace !== undefined && { namespace }) },
    spec: podSpec(images, extra),
  };
}

/** A Deployment, StatefulSet, DaemonSet, Job or CronJob running `images`. */
export function workloadManifest(
  kind: "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob",
  name: string,
  images: Images,
  options: { readonly replicas?: number; readonly namespace?: string } = {},
): Manifest {
  const replicas = options.replicas ?? 1;
  const labels = { app: name };
  const spec = podSpec({ containers: images });
  const template = { metadata: { labels }, spec };
  const selector = { matchLabels: labels };
  const jobSpec = { template: { ...template, spec: { ...spec, restartPolicy: "Never" } } };
  const specs: Record<typeof kind, { apiVersion: string; spec: unknown }> = {
    Deployment: { apiVersion: "apps/v1", spec: { replicas, selector, template } },
    StatefulSet: {
      apiVersion: "apps/v1",
      spec: { replicas, serviceName: name, selector, template },
    },
    DaemonSet: { apiVersion: "apps/v1", spec: { selector, template } },
    Job: { apiVersion: "batch/v1", spec: jobSpec },
    CronJob: {
      apiVersion: "batch/v1",
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: jobSpec } },
    },
  };
  const { apiVersion, spec: workloadSpec } = specs[kind];
  const metadata = {
    name,
    ...(options.namespace !== undefined && { namespace: options.namespace }),
  };
  return { apiVersion, kind, metadata, spec: workloadSpec };
}

/** Objects as a multi-document YAML file. */
export function yamlDocuments(...objects: readonly unknown[]): string {
  return objects
    .map((object) => stringify(object, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join("---\n");
}

/** What the API server answered a create: the stored (or dry-run) object, or the refusal. */
export type Created =
  | { readonly allowed: true; readonly object: KubernetesObject & Record<string, any> }
  | { readonly allowed: false; readonly code: number; readonly message: string };

/** Creates `object` (a server dry-run with `dryRun`); a refusal is a result, not an error. */
export async function tryCreate(
  objects: KubernetesObjectApi,
  object: Manifest,
  options: { readonly dryRun?: boolean } = {},
): Promise<Created> {
  try {
    const created = await objects.create(
      object,
      undefined,
      options.dryRun === true ? "All" : undefined,
    );
    return { allowed: true, object: created as KubernetesObject & Record<string, any> };
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { allowed: false, code: error.code, message: statusMessage(error) };
  }
}

/** The `message` of the Status an ApiException carries. */
export function statusMessage(error: ApiException<unknown>): string {
  const body: unknown = error.body;
  try {
    const status = (typeof body === "string" ? JSON.parse(body) : body) as { message?: string };
    return status.message ?? String(body);
  } catch {
    return String(body);
  }
}

/** The images of a stored pod: container (or volume) place → image. */
export function podImages(pod: unknown): Record<string, string> {
  const spec = (pod as { spec?: Record<string, unknown> }).spec ?? {};
  const images: Record<string, string> = {};
  for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const container of (spec[list] as { name: string; image: string }[] | undefined) ?? [])
      images[`${list}[${container.name}]`] = container.image;
  }
  for (const volume of (spec.volumes as
    { name: string; image?: { reference?: string } }[] | undefined) ?? []) {
    if (volume.image?.reference !== undefined)
      images[`volumes[${volume.name}]`] = volume.image.reference;
  }
  return images;
}
