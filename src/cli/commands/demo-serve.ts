/**
 * `netdbg demo serve --count N`: N of the demo's built-in targets (Windows models behind real SSH servers with
 * their KDNET side on real UDP, Linux models behind real SSH servers with kgdb's RSP stub on real UDP), kept
 * running on 127.0.0.1 until interrupted, with an Ansible inventory and a netdbg inventory that name them — so
 * a fleet, `--ansible-inventory` and the netdbg.netdbg collection can be tried without hardware, and tests
 * have real peers.
 *
 * Targets are spread over the debug hosts named by `--debug-hosts`, a Windows-Linux pair at a time (each gets its own port range,
 * since they all run on this one machine); each debug host is listed with `ansible_connection=local`.
 */
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { netdbgError } from "../../core/error.js";
import { type Inventory, TARGET_NAME, type Target } from "../../core/inventory.js";
import { type LinuxPeer, startLinuxPeer } from "../../peers/linux.js";
import { startWindowsPeer, type WindowsPeer } from "../../peers/windows.js";
import { BUNDLED_KGDBOE_SOURCE } from "../../io/kgdboe-source.js";

export interface ServeOptions {
  count?: string;
  os?: string;
  debugHosts?: string;
  dir?: string;
  portBase?: string;
}

export interface ServedTarget {
  name: string;
  os: "windows" | "linux";
  debugHost: string;
  ssh: { host: string; port: number; user: string; identityFile: string };
  /** Linux: the kgdb stub's UDP port (kgdboe's udp_port). */
  targetPort?: number;
}

export interface Served {
  dir: string;
  ansibleInventory: string;
  netdbgInventory: string;
  knownHosts: string;
  debugHosts: { name: string; portRange: string }[];
  targets: ServedTarget[];
  close(): Promise<void>;
}

const MAX_TARGETS = 256;
const PORTS_PER_DEBUG_HOST = 64;

function whole(raw: string | undefined, option: string, min: number, max: number, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw netdbgError("E003", {
      option,
      value: raw,
      reason: `expected a whole number from ${min} to ${max}`,
      fix: `Pass ${option} <${min}-${max}>.`,
    });
  }
  return n;
}

/** Start the targets, write both inventories and the SSH material into `dir`, and return what was started. */
export async function serveTargets(opts: ServeOptions): Promise<Served> {
  const count = whole(opts.count, "--count", 1, MAX_TARGETS, 2);
  const mix = opts.os ?? "both";
  if (!["both", "windows", "linux"].includes(mix)) {
    throw netdbgError("E003", {
      option: "--os",
      value: mix,
      reason: "expected both, windows or linux",
      fix: "Pass --os both|windows|linux.",
    });
  }
  const debugHosts = (opts.debugHosts ?? "localhost").split(",").map((s) => s.trim());
  for (const h of debugHosts) {
    if (!TARGET_NAME.test(h)) {
      throw netdbgError("E003", {
        option: "--debug-hosts",
        value: opts.debugHosts ?? "",
        reason: `'${h}' is not a usable host name`,
        fix: "Pass a comma-separated list of names such as dbg1,dbg2.",
      });
    }
  }
  const portBase = whole(opts.portBase, "--port-base", 49152, 65535 - PORTS_PER_DEBUG_HOST * debugHosts.length, 50000);
  const dir = resolve(opts.dir ?? (await mkdtemp(join(tmpdir(), "netdbg-serve-"))));
  await mkdir(join(dir, "ssh"), { recursive: true, mode: 0o700 });

  const peers: (WindowsPeer | LinuxPeer)[] = [];
  const close = async () => {
    await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
  };
  const targets: ServedTarget[] = [];
  const knownHosts: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const os: "windows" | "linux" = mix === "both" ? (i % 2 === 0 ? "windows" : "linux") : (mix as "windows" | "linux");
      const name = `${os === "windows" ? "win" : "lin"}${String(i + 1).padStart(2, "0")}`;
      const peer = os === "windows" ? await startWindowsPeer() : await startLinuxPeer();
      peers.push(peer);
      const identityFile = join(dir, "ssh", `id_${name}`);
      await writeFile(identityFile, peer.ssh.clientKey.private, { mode: 0o600 });
      await chmod(identityFile, 0o600);
      knownHosts.push(peer.ssh.knownHostsLine());
      targets.push({
        name,
        os,
        // pairs (one Windows, one Linux) go round the debug hosts, so each debug host gets both kinds
        debugHost: debugHosts[Math.floor(i / 2) % debugHosts.length] as string,
        ssh: { host: "127.0.0.1", port: peer.ssh.port, user: peer.user, identityFile },
        ...(os === "linux" ? { targetPort: (peer as LinuxPeer).udpPort } : {}),
      });
    }
  } catch (e) {
    await close();
    throw netdbgError("E770", { what: "targets", reason: (e as Error).message }, { cause: e });
  }
  const knownHostsPath = join(dir, "ssh", "known_hosts");
  await writeFile(knownHostsPath, `${knownHosts.join("\n")}\n`);

  const ranges = debugHosts.map((name, i) => ({
    name,
    portRange: `${portBase + i * PORTS_PER_DEBUG_HOST}-${portBase + (i + 1) * PORTS_PER_DEBUG_HOST - 1}`,
  }));
  // Ansible's YAML inventory format: debug hosts run netdbg locally, targets carry the netdbg_* variables
  const hostVars = (t: ServedTarget) => ({
    ansible_host: t.ssh.host,
    ansible_port: t.ssh.port,
    ansible_user: t.ssh.user,
    ansible_ssh_private_key_file: t.ssh.identityFile,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHostsPath}`,
    ...(t.os === "windows" ? { ansible_shell_type: "powershell" } : {}),
    netdbg_os: t.os,
    netdbg_debug_host: t.debugHost,
    netdbg_host_ip: "127.0.0.1",
    ...(t.os === "linux" ? { netdbg_target_port: t.targetPort, netdbg_kgdboe_source: BUNDLED_KGDBOE_SOURCE } : {}),
  });
  const ansible = {
    all: {
      children: {
        debug_hosts: {
          hosts: Object.fromEntries(ranges.map((r) => [r.name, { ansible_connection: "local", netdbg_port_range: r.portRange }])),
        },
        netdbg_demo: {
          children: {
            demo_windows: {
              hosts: Object.fromEntries(targets.filter((t) => t.os === "windows").map((t) => [t.name, hostVars(t)])),
            },
            demo_linux: { hosts: Object.fromEntries(targets.filter((t) => t.os === "linux").map((t) => [t.name, hostVars(t)])) },
          },
        },
      },
    },
  };
  const ansiblePath = join(dir, "inventory.yml");
  await writeFile(
    ansiblePath,
    `# netdbg demo serve: ${count} built-in targets on 127.0.0.1 (stopped with the command)\n${stringify(ansible)}`,
  );
  // netdbg's own inventory: the same targets, for 'netdbg --state-dir <dir> setup --all'
  const inv: Inventory = {
    version: 1,
    targets: targets.map(
      (t): Target => ({
        name: t.name,
        os: t.os,
        address: t.ssh.host,
        ssh: { user: t.ssh.user, port: t.ssh.port, identityFile: t.ssh.identityFile, knownHostsFile: knownHostsPath },
        groups: ["netdbg_demo", `demo_${t.os}`],
        transport: {
          hostIp: "127.0.0.1",
          ...(t.os === "linux" ? { targetPort: t.targetPort as number, kgdboeSource: BUNDLED_KGDBOE_SOURCE } : {}),
        },
        note: "netdbg demo serve",
      }),
    ),
  };
  const netdbgPath = join(dir, "targets.yaml");
  await writeFile(netdbgPath, `# netdbg demo serve\n${stringify(inv)}`, { mode: 0o600 });
  return {
    dir,
    ansibleInventory: ansiblePath,
    netdbgInventory: netdbgPath,
    knownHosts: knownHostsPath,
    debugHosts: ranges,
    targets,
    close,
  };
}
