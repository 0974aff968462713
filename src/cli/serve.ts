import { isDigestpinError } from "../errors.ts";
import { createLogger, Metrics } from "../observability/index.ts";
import { parseServeConfig, startWebhook } from "../webhook/index.ts";
import { EXIT_USAGE, type CliIO, type Command } from "./command.ts";

const usage = `Usage: digestpin serve [options]

Runs the admission webhook: POST /mutate and /validate over HTTPS; /healthz, /readyz and
/metrics over plain HTTP. Stops gracefully on SIGTERM (readiness fails first, in-flight reviews
finish).

Policy (one of):
  --policy FILE [--pins FILE]…      A policy file (and pins files), reloaded when they change
  --policy-configmap NS/NAME        The policy ConfigMap (key policy.yaml); pins also come from
                                    ConfigMaps labelled digestpin.dev/pins=true in NS. Default
                                    in a cluster: $POD_NAMESPACE/digestpin-policy
  --pin-store PREFIX                digestpin's pin store, ConfigMaps PREFIX-000, PREFIX-001, …
                                    in NS, where trust-on-first-use pins go (default digestpin-pins)
  --pin-store-shards N              How many ConfigMaps the store may open (default 64)
  --auto-pins-configmap NAME        Where earlier versions recorded trust-on-first-use pins (default
                                    digestpin-pins-auto): read, and edited by approve, never grown

TLS (one of; default outside a cluster: an in-memory certificate for --tls-host):
  --tls-cert-file F --tls-key-file F    Mounted certificates (cert-manager), reloaded on change
  --tls-self-managed                    CA and certificate kept in --tls-secret (default
                                        digestpin-tls) for --service (default digestpin), the
                                        caBundle patched into --webhook-configurations M,V
  --tls-host HOST                       Names/IPs of the in-memory certificate (repeatable)

Serving:
  --host ADDR (0.0.0.0)  --port N (8443)  --metrics-host ADDR (0.0.0.0)  --metrics-port N (9090)
  --timeout-seconds N    The webhooks' timeoutSeconds (default 10): registry work ends before it
  --drain-delay S        Seconds readiness fails before the listener closes (default 5)
  --mutate-templates     Also rewrite workload pod templates (default: validate them only)
  --pull-secrets         Use pods' imagePullSecrets and their service accounts' for registries
  --namespace NS         The webhook's namespace (default $POD_NAMESPACE, else digestpin-system)
  --kubeconfig FILE      API server access (default $KUBECONFIG, its files merged as kubectl
                         merges them, else in-cluster)
  --context NAME         The kubeconfig context (default its current-context)
  --log-level LEVEL      trace, debug, info (default), warn, error
  -h, --help             Show this help.
`;

/** `digestpin serve`: the webhook, until SIGTERM or SIGINT. */
export const serveCommand: Command = {
  name: "serve",
  summary: "Run the admission webhook",
  usage,
  async run(args, io: CliIO) {
    const parsed = parseServeConfig(args, io.env);
    if (parsed.ok === "help") {
      io.stdout(usage);
      return 0;
    }
    if (!parsed.ok) {
      io.stderr(
        `digestpin serve: ${parsed.error}\n\nRun 'digestpin serve --help' for the options.\n`,
      );
      return EXIT_USAGE;
    }
    const logger = createLogger({ level: parsed.config.logLevel });
    const metrics = new Metrics({ processMetrics: true });
    let webhook;
    try {
      webhook = await startWebhook(parsed.config, { logger, metrics, instance: io.env.POD_NAME });
    } catch (error) {
      // What the operator must fix, in one line (and the issues of an invalid policy file).
      const message = error instanceof Error ? error.message : String(error);
      if (isDigestpinError(error)) logger.fatal({ code: error.code }, message);
      else logger.fatal({ err: error }, "digestpin could not start");
      io.stderr(`digestpin serve: ${message}\n`);
      return 1;
    }
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGTERM", () => {
        resolve("SIGTERM");
      });
      process.once("SIGINT", () => {
        resolve("SIGINT");
      });
    });
    logger.info({ signal }, "stopping: draining in-flight reviews");
    await webhook.stop();
    logger.info("stopped");
    return 0;
  },
};
