// TLS: the webhook's serving certificate from files, from memory, or self-managed (a CA and
// certificate in a Secret, the caBundle patched into its webhook configurations), hot-reloaded.
import type { KubeConfig } from "@kubernetes/client-node";
import { DigestpinError } from "../errors.ts";
import { ephemeralTlsSource } from "./ephemeral.ts";
import { FileTlsSource } from "./file-source.ts";
import type { RotationPolicy } from "./rotation.ts";
import { SelfManagedTlsSource } from "./self-managed.ts";
import type { TlsSource, TlsSourceDependencies } from "./source.ts";

export { ephemeralTlsSource, DEFAULT_EPHEMERAL_HOSTS } from "./ephemeral.ts";
export { FileTlsSource } from "./file-source.ts";
export { SelfManagedTlsSource } from "./self-managed.ts";
export {
  parseCertificate,
  servingCertificate,
  TlsMaterialError,
  type ServingCertificate,
} from "./material.ts";
export { createCertificateAuthority, createServingCertificate } from "./certificates.ts";
export { certificateHosts, hostProblem, isDnsLabel } from "./hosts.ts";
export {
  CertificateSlot,
  secureContextOptions,
  type SecureContextOptions,
  type TlsMode,
  type TlsSource,
  type TlsSourceDependencies,
} from "./source.ts";

/** Where the serving certificate comes from (the `tls` of the serve configuration). */
export type TlsConfig =
  | {
      readonly mode: "files";
      readonly certFile: string;
      readonly keyFile: string;
      readonly caFile?: string;
    }
  | {
      readonly mode: "self-managed";
      /** The Secret keeping the CA and serving certificate. */
      readonly secret: string;
      /** The webhook's Service. */
      readonly service: string;
      /** [MutatingWebhookConfiguration, ValidatingWebhookConfiguration] names. */
      readonly webhookConfigurations: readonly [string, string];
      /** More DNS names or IP addresses for the certificate. */
      readonly hosts?: readonly string[];
    }
  | { readonly mode: "ephemeral"; readonly hosts?: readonly string[] };

export interface TlsSourceContext extends TlsSourceDependencies {
  /** The webhook's namespace (self-managed: where the Secret lives). */
  readonly namespace: string;
  /** Required for self-managed mode. */
  readonly kubeConfig?: KubeConfig | undefined;
  readonly now?: () => Date;
  readonly rotation?: Partial<RotationPolicy>;
}

/** The TLS source `config` describes; call `start()` on it before serving. */
export function createTlsSource(config: TlsConfig, context: TlsSourceContext): TlsSource {
  const dependencies = {
    ...(context.logger !== undefined && { logger: context.logger }),
    ...(context.metrics !== undefined && { metrics: context.metrics }),
    ...(context.now !== undefined && { now: context.now }),
  };
  switch (config.mode) {
    case "files":
      return new FileTlsSource({ ...dependencies, ...config });
    case "ephemeral":
      return ephemeralTlsSource({
        ...dependencies,
        ...(config.hosts !== undefined && { hosts: config.hosts }),
      });
    case "self-managed": {
      if (context.kubeConfig === undefined) {
        throw new DigestpinError(
          "ERR_CONFIG",
          "self-managed TLS needs access to the API server (--kubeconfig, or run in a cluster)",
        );
      }
      const [mutating, validating] = config.webhookConfigurations;
      return new SelfManagedTlsSource({
        ...dependencies,
        kubeConfig: context.kubeConfig,
        namespace: context.namespace,
        service: config.service,
        secretName: config.secret,
        mutatingWebhookConfiguration: mutating,
        validatingWebhookConfiguration: validating,
        ...(config.hosts !== undefined && { hosts: config.hosts }),
        ...(context.rotation !== undefined && { rotation: context.rotation }),
      });
    }
  }
}
