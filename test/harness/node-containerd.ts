import { mkdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { launchReady, type Launch, type Started } from "./kube-launch.ts";
import { toolPath } from "./tools.ts";

/** Debian's CNI plugins (scripts/node-packages.sh installs them). */
export const CNI_BIN_DIR = "/usr/lib/cni";

export interface ContainerdOptions {
  /** Everything of containerd's lives here: root, state, sockets, configuration. */
  readonly dir: string;
  /** The CNI network configuration directory (node-network.ts writes it). */
  readonly cniConfDir: string;
  /** `host:port` of the registry Pods pull from, and the CA it is served with. */
  readonly registryHost: string;
  readonly registryCaFile: string;
  /** The Pods' sandbox ("pause") image, in that registry. */
  readonly sandboxImage: string;
  readonly launch: Launch;
}

export interface Containerd extends Started {
  /** unix:///…/containerd.sock, the kubelet's container runtime endpoint. */
  readonly endpoint: string;
}

/**
 * containerd with its CRI plugin as a kubelet's runtime: runc (v1.5) with cgroupfs, the Pods'
 * network from the CNI bridge plugin, images pulled from the testbed registry trusting its CA.
 * Nothing is shared with another containerd: root, state, runc's state, sockets and network
 * namespaces are all under `dir`; NRI is off.
 */
export async function startContainerd(options: ContainerdOptions): Promise<Containerd> {
  const { dir } = options;
  // runc from the Go module proxy: Debian's (1.1.5), and its crun (1.8.1), refuse the runtime
  // spec 1.3 containerd 2.4 writes.
  const [command, shim, runc] = await Promise.all([
    toolPath("containerd"),
    toolPath("containerd-shim-runc-v2"),
    toolPath("runc"),
  ]);
  const socket = join(dir, "containerd.sock");
  const certsDir = join(dir, "certs.d");
  await mkdir(join(certsDir, options.registryHost), { recursive: true });
  await writeFile(
    join(certsDir, options.registryHost, "hosts.toml"),
    hostsToml(options.registryHost, options.registryCaFile),
  );
  const configFile = join(dir, "config.toml");
  await writeFile(configFile, configToml({ ...options, socket, certsDir, runc }));
  return {
    ...(await launchReady(options.launch, () =>
      Promise.resolve({
        name: "containerd",
        command,
        args: ["--config", configFile],
        logFile: join(dir, "containerd.log"),
        // containerd finds its shim on PATH, runc by the configured path.
        env: { PATH: `${dirname(shim)}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` },
        probe: () => accepts(socket),
      }),
    )),
    endpoint: `unix://${socket}`,
  };
}

function accepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = connect(socket);
    connection.once("connect", () => {
      connection.destroy();
      resolve(true);
    });
    connection.once("error", () => {
      resolve(false);
    });
  });
}

function hostsToml(host: string, caFile: string): string {
  return `server = "https://${host}"

[host."https://${host}"]
  capabilities = ["pull", "resolve"]
  ca = ${JSON.stringify(caFile)}
`;
}

function configToml(
  options: ContainerdOptions & {
    readonly socket: string;
    readonly certsDir: string;
    readonly runc: string;
  },
): string {
  const { dir } = options;
  const q = (value: string): string => JSON.stringify(value);
  return `version = 4
imports = []
root = ${q(join(dir, "root"))}
state = ${q(join(dir, "state"))}
temp = ${q(join(dir, "tmp"))}
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.differ.v1.erofs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[plugins."io.containerd.server.v1.grpc"]
  address = ${q(options.socket)}

[plugins."io.containerd.server.v1.ttrpc"]
  address = ${q(`${options.socket}.ttrpc`)}

[plugins."io.containerd.server.v1.debug"]
  address = ""

[plugins."io.containerd.server.v1.metrics"]
  address = ""

[plugins."io.containerd.nri.v1.nri"]
  disable = true

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(dir, "opt"))}

[plugins."io.containerd.image-verifier.v1.bindir"]
  bin_dir = ${q(join(dir, "image-verifier"))}

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = ${q(options.sandboxImage)}
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = ${q(options.certsDir)}

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  # This machine runs everything with a raised oom_score_adj that may not be lowered (the
  # sandboxes' -998 is refused): keep Pods' at least containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = ${q(options.runc)}
        Root = ${q(join(dir, "runc"))}
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [${q(CNI_BIN_DIR)}]
    conf_dir = ${q(options.cniConfDir)}
    max_conf_num = 1
`;
}
