import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { tempDir } from "../../harness/lifecycle.ts";
import { runCli } from "../../helpers/run-cli.ts";

const DAY_MS = 86_400_000;

const read = async (dir: string) => ({
  ca: await readFile(join(dir, "ca.crt"), "utf8"),
  cert: await readFile(join(dir, "tls.crt"), "utf8"),
  key: await readFile(join(dir, "tls.key"), "utf8"),
});

test("writes a CA, a serving certificate it signed and the key, and prints the caBundle", async (t) => {
  const dir = join(await tempDir(t, "certs"), "out"); // created by the command
  const before = Date.now();
  const { status, stdout, stderr } = await runCli([
    "certs",
    "--service=digestpin",
    "--namespace=webhooks",
    `--out=${dir}`,
    "--host=10.96.0.10",
    "--host=webhook.example.com",
  ]);
  t.is(stderr, "");
  t.is(status, 0);
  const files = await read(dir);
  const ca = new X509Certificate(files.ca);
  const leaf = new X509Certificate(files.cert);

  t.true(ca.ca);
  t.true(leaf.verify(ca.publicKey));
  t.true(leaf.checkIssued(ca));
  t.true(leaf.checkPrivateKey(createPrivateKey(files.key)));
  t.is(leaf.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  t.is(
    leaf.subjectAltName,
    "DNS:digestpin, DNS:digestpin.webhooks, DNS:digestpin.webhooks.svc, " +
      "DNS:digestpin.webhooks.svc.cluster.local, IP Address:10.96.0.10, " +
      "DNS:webhook.example.com",
  );
  t.is(leaf.subject, "CN=digestpin.webhooks.svc");
  // From when the command ran (X.509 times have whole seconds).
  const days = (date: Date) => (date.getTime() - before) / DAY_MS;
  t.true(Math.abs(days(leaf.validToDate) - 365) < 0.01, String(days(leaf.validToDate)));
  t.true(Math.abs(days(ca.validToDate) - 3650) < 0.01, String(days(ca.validToDate)));

  t.is((await stat(join(dir, "tls.key"))).mode & 0o777, 0o600);

  const lines = stdout.trimEnd().split("\n");
  t.is(
    lines[0],
    `wrote ${join(dir, "ca.crt")}: CA "digestpin.webhooks CA", valid until ${ca.validToDate.toISOString()}`,
  );
  t.is(
    lines[1],
    `wrote ${join(dir, "tls.crt")}: serving certificate for digestpin, digestpin.webhooks, ` +
      `digestpin.webhooks.svc, digestpin.webhooks.svc.cluster.local, 10.96.0.10, ` +
      `webhook.example.com, valid until ${leaf.validToDate.toISOString()}`,
  );
  t.is(lines[2], `wrote ${join(dir, "tls.key")}: its private key (mode 0600)`);
  t.true(
    lines.includes(
      `  kubectl --namespace webhooks create secret tls digestpin-tls --cert=${join(dir, "tls.crt")} --key=${join(dir, "tls.key")}`,
    ),
  );
  const bundle = lines.at(-1)!;
  t.regex(bundle, /^caBundle: [A-Za-z0-9+/]+=*$/);
  t.is(Buffer.from(bundle.slice("caBundle: ".length), "base64").toString("utf8"), files.ca);
});

test("--days sets the serving certificate's validity; the CA outlives it", async (t) => {
  const dir = await tempDir(t, "certs");
  const run = await runCli([
    "certs",
    "--service",
    "w",
    "--namespace",
    "n",
    "--out",
    dir,
    "--days",
    "5000",
  ]);
  t.is(run.status, 0, run.stderr);
  const { ca, cert } = await read(dir);
  const leafEnd = new X509Certificate(cert).validToDate.getTime();
  t.true(Math.abs(leafEnd - Date.now() - 5000 * DAY_MS) < 60_000);
  t.true(new X509Certificate(ca).validToDate.getTime() >= leafEnd);
});

test("existing files are kept unless --force", async (t) => {
  const dir = await tempDir(t, "certs");
  await writeFile(join(dir, "tls.key"), "mine");
  const args = ["certs", "--service=w", "--namespace=n", `--out=${dir}`];
  const refused = await runCli(args);
  t.is(refused.status, 1);
  t.is(
    refused.stderr,
    `digestpin certs: ${join(dir, "tls.key")} exists; give --force to replace it\n`,
  );
  t.is(await readFile(join(dir, "tls.key"), "utf8"), "mine");
  await t.throwsAsync(stat(join(dir, "ca.crt"))); // nothing written at all

  const forced = await runCli([...args, "--force"]);
  t.is(forced.status, 0, forced.stderr);
  const { cert, key } = await read(dir);
  t.true(new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)));
  t.is((await stat(join(dir, "tls.key"))).mode & 0o777, 0o600);
});

test("usage errors exit 2 and say what is wrong", async (t) => {
  const cases: [string[], string][] = [
    [["--service=w", "--namespace=n"], "--service, --namespace and --out are required"],
    [["--service=W_1", "--namespace=n", "--out=x"], '--service "W_1" is not a Service name'],
    [["--service=w", "--namespace=N!", "--out=x"], '--namespace "N!" is not a namespace name'],
    [
      ["--service=w", "--namespace=n", "--out=x", "--host=a b"],
      '--host: host "a b" is neither a DNS name nor an IP address',
    ],
    [
      ["--service=w", "--namespace=n", "--out=x", "--days=0"],
      '--days "0" is not a whole number of days',
    ],
    [
      ["--service=w", "--namespace=n", "--out=x", "--days=1.5"],
      '--days "1.5" is not a whole number of days',
    ],
    [["--bogus"], "Unknown option '--bogus'"],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(["certs", ...args]);
    t.is(run.status, 2, args.join(" "));
    t.is(run.stdout, "");
    t.true(run.stderr.startsWith(`digestpin certs: ${message}`), run.stderr);
    t.true(run.stderr.includes("Usage: digestpin certs"));
  }
});

test("--help prints the usage and the overview lists the command", async (t) => {
  const help = await runCli(["certs", "--help"]);
  t.is(help.status, 0);
  t.true(help.stdout.startsWith("Usage: digestpin certs --service NAME --namespace NS --out DIR"));
  const overview = await runCli(["--help"]);
  t.true(
    overview.lines.some((line) => /^ {2}certs +Create a CA and a serving certificate/.test(line)),
  );
});
