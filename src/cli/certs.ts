import { constants } from "node:fs";
import { access, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { DigestpinError } from "../errors.ts";
import {
  certificateHosts,
  createCertificateAuthority,
  createServingCertificate,
  hostProblem,
  isDnsLabel,
  parseCertificate,
} from "../tls/index.ts";
import { readCommandArgs, usageError, type CliIO, type Command } from "./command.ts";

const usage = `Usage: digestpin certs --service NAME --namespace NS --out DIR [options]

Creates a certificate authority and a serving certificate for the webhook's Service, signed
by it (RSA 2048). The serving certificate is valid for NAME, NAME.NS, NAME.NS.svc and
NAME.NS.svc.cluster.local, and for each --host. Writes DIR/ca.crt, DIR/tls.crt and
DIR/tls.key (mode 0600), and prints the caBundle for the webhook configurations. The CA's key
is not kept: to renew, run it again (or let digestpin manage certificates, see docs/tls.md).

Options:
  --service NAME      The webhook's Service
  --namespace NS      Its namespace
  --out DIR           Where to write the files (created if missing)
  --host HOST         Another DNS name or IP address for the certificate; repeatable
  --days N            Validity of the serving certificate in days (default 365); the CA's is
                      ten years, or N if longer
  --force             Overwrite files that exist
  -h, --help          Show this help.
`;

/** `digestpin certs`: a CA and serving certificate for installing the webhook by hand. */
export const certsCommand: Command = {
  name: "certs",
  summary: "Create a CA and a serving certificate for the webhook's Service",
  usage,
  run,
};

const CA_DAYS = 3650;

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    certsCommand,
    args,
    {
      service: { type: "string" },
      namespace: { type: "string" },
      out: { type: "string" },
      host: { type: "string", multiple: true },
      days: { type: "string", default: "365" },
      force: { type: "boolean" },
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const fail = usageError(certsCommand, io);
  if (positionals.length > 0) return fail(`unexpected argument "${positionals[0] ?? ""}"`);
  const { service, namespace, out } = values;
  if (service === undefined || namespace === undefined || out === undefined) {
    return fail("--service, --namespace and --out are required");
  }
  if (!isDnsLabel(service)) return fail(`--service "${service}" is not a Service name`);
  if (!isDnsLabel(namespace)) return fail(`--namespace "${namespace}" is not a namespace name`);
  const problem = (values.host ?? []).map(hostProblem).find((p) => p !== undefined);
  if (problem !== undefined) return fail(`--host: ${problem}`);
  const days = /^[1-9]\d{0,5}$/.test(values.days) ? Number(values.days) : undefined;
  if (days === undefined) return fail(`--days "${values.days}" is not a whole number of days`);

  const hosts = certificateHosts(service, namespace, values.host);
  const ca = createCertificateAuthority({
    commonName: `${service}.${namespace} CA`,
    validDays: Math.max(CA_DAYS, days),
  });
  const leaf = createServingCertificate(ca, {
    commonName: `${service}.${namespace}.svc`,
    hosts,
    validDays: days,
  });
  const files = [
    { name: "ca.crt", text: ca.cert, mode: 0o644 },
    { name: "tls.crt", text: leaf.cert, mode: 0o644 },
    { name: "tls.key", text: leaf.key, mode: 0o600 },
  ];
  try {
    await mkdir(out, { recursive: true });
    if (values.force !== true) {
      for (const file of files) await refuseExisting(join(out, file.name));
    }
    for (const file of files) {
      await writeNew(join(out, file.name), file.text, file.mode, values.force === true);
    }
  } catch (error) {
    io.stderr(`digestpin certs: ${(error as Error).message}\n`);
    return 1;
  }
  const until = (pem: string): string => parseCertificate(pem).validToDate.toISOString();
  io.stdout(
    [
      `wrote ${join(out, "ca.crt")}: CA "${service}.${namespace} CA", valid until ${until(ca.cert)}`,
      `wrote ${join(out, "tls.crt")}: serving certificate for ${hosts.join(", ")}, valid until ${until(leaf.cert)}`,
      `wrote ${join(out, "tls.key")}: its private key (mode 0600)`,
      "",
      "Mount tls.crt and tls.key in the webhook (--tls-cert-file, --tls-key-file), e.g. from:",
      `  kubectl --namespace ${namespace} create secret tls ${service}-tls --cert=${join(out, "tls.crt")} --key=${join(out, "tls.key")}`,
      "and set clientConfig.caBundle of every webhook in both webhook configurations to:",
      `caBundle: ${Buffer.from(ca.cert, "utf8").toString("base64")}`,
      "",
    ].join("\n"),
  );
  return 0;
}

async function refuseExisting(path: string): Promise<void> {
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (exists)
    throw new DigestpinError("ERR_FILE_EXISTS", `${path} exists; give --force to replace it`);
}

/** Writes `path` with `mode`, refusing to replace an existing file unless `force`. */
async function writeNew(path: string, text: string, mode: number, force: boolean): Promise<void> {
  const flags =
    constants.O_WRONLY | constants.O_CREAT | (force ? constants.O_TRUNC : constants.O_EXCL);
  let handle;
  try {
    handle = await open(path, flags, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new DigestpinError("ERR_FILE_EXISTS", `${path} exists; give --force to replace it`, {
        cause: error,
      });
    }
    throw error;
  }
  try {
    await handle.chmod(mode); // the umask, or an existing file's mode, may differ
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}
