/**
 * Probe: read-only facts about a Linux target (also used by doctor). Every command here only reads; each is a
 * fixed script (the host address is the only value, quoted with shQuote). Output formats: `uname`, os-release(5),
 * `ip -4 -o addr show` and `ip route get` text (test/fixtures/linux/ip-route-get-and-udp-connect.txt),
 * sysfs files named in sysprogs/kgdboe at d4b4f22 (kgdboe_main.c, netpoll_wrapper.c) and the kernel's Documentation/ABI.
 */
import { shQuote } from "../../core/quote.js";
import { bootProbe, GRUB_DEFAULTS, parseBootProbe } from "./cmdline.js";
import { parseKernelConfig } from "./kconfig.js";
import { BUILT_MARK, COMMIT_MARK, REMOTE_DIR, REMOTE_ENV, REMOTE_LOADER, REMOTE_UNIT, SOURCE_MARK, UNIT_NAME } from "./paths.js";
import { parsePollProbe, pollProbe } from "./pollctl.js";
import type { LinuxRemote } from "./remote.js";
import type { DistroFamily, LinuxFacts, Nic } from "./types.js";

export const PROBE = {
  whoami: `id -u; id -un; printf '%s\\n' "\${SSH_CONNECTION:-}"`,
  osRelease: "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release",
  uname: "uname -r; uname -m",
  kernelConfig: [
    'r=$(uname -r); if [ -r "/boot/config-$r" ]; then echo "# netdbg-config-source: /boot/config-$r"; cat "/boot/config-$r";',
    "elif [ -r /proc/config.gz ]; then echo '# netdbg-config-source: /proc/config.gz'; zcat /proc/config.gz;",
    'elif [ -r "/lib/modules/$r/build/.config" ]; then echo "# netdbg-config-source: /lib/modules/$r/build/.config"; cat "/lib/modules/$r/build/.config";',
    "else echo '# netdbg-config-source: none'; fi",
  ].join(" "),
  security: [
    "printf 'lockdown=%s\\n' \"$(cat /sys/kernel/security/lockdown 2>/dev/null)\";",
    "if command -v mokutil >/dev/null 2>&1; then printf 'sb=%s\\n' \"$(mokutil --sb-state 2>&1 | head -n 1)\";",
    "elif [ -d /sys/firmware/efi ]; then printf 'sb=efivar:%s\\n' \"$(od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | awk '{print $NF}')\";",
    "else echo sb=legacy; fi;",
    "printf 'sig_enforce=%s\\n' \"$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null)\";",
    "printf 'cmdline=%s\\n' \"$(cat /proc/cmdline)\";",
    "printf 'gro=%s\\n' \"$(cat /proc/sys/net/core/gro_normal_batch 2>/dev/null)\";",
    "printf 'ibt=%s\\n' \"$(grep -m1 -ow ibt /proc/cpuinfo)\"",
  ].join(" "),
  tools: [
    'r=$(uname -r); if [ -e "/lib/modules/$r/build/Makefile" ]; then echo headers=yes; else echo headers=no; fi;',
    "for t in gcc make git tar flock insmod rmmod systemctl apt-get dnf yum zypper pacman dpkg rpm; do",
    'if command -v "$t" >/dev/null 2>&1; then echo "tool=$t"; fi; done;',
    // the versioned compilers Debian/Ubuntu (gcc-N) and SUSE (gccN's gcc-N) install beside the default one
    'for v in 8 9 10 11 12 13 14 15 16; do if command -v "gcc-$v" >/dev/null 2>&1; then echo "tool=gcc-$v"; fi; done;',
    "printf 'gccver=%s\\n' \"$(gcc -dumpfullversion -dumpversion 2>/dev/null)\";",
    "if [ -d /run/systemd/system ]; then echo systemd=yes; fi",
  ].join(" "),
  nics: [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's parameter expansion, expanded by the remote bash
    "for d in /sys/class/net/*; do n=${d##*/}; f=;",
    'if [ -d "$d/wireless" ] || [ -e "$d/phy80211" ]; then f="$f,wireless"; fi;',
    'if [ -e "$d/master" ]; then f="$f,enslaved"; fi; if [ -d "$d/brport" ]; then f="$f,bridge-port"; fi;',
    'if [ -d "$d/bonding_slave" ]; then f="$f,bond-slave"; fi; if [ -d "$d/bridge" ]; then f="$f,bridge"; fi;',
    'if [ -d "$d/bonding" ]; then f="$f,bond"; fi; if [ ! -e "$d/device" ]; then f="$f,virtual"; fi;',
    'case "$(readlink -f "$d/device" 2>/dev/null)" in */usb*) f="$f,usb";; esac;',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's parameter expansion, expanded by the remote bash
    'drv=$(readlink "$d/device/driver" 2>/dev/null); drv=${drv##*/};',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's parameter expansion, expanded by the remote bash
    'printf \'nic\\t%s\\t%s\\t%s\\t%s\\n\' "$n" "${drv:--}" "$(cat "$d/operstate" 2>/dev/null)" "${f#,}"; done;',
    "ip -4 -o addr show",
  ].join(" "),
  route: (hostIp: string) => `ip route get ${shQuote(hostIp)}`,
  kallsyms:
    'awk \'$3=="kallsyms_lookup_name"{print "addr=" $1; exit}\' /proc/kallsyms; printf \'kptr_restrict=%s\\n\' "$(cat /proc/sys/kernel/kptr_restrict)"',
  state: [
    "printf 'kgdboc=%s\\n' \"$(cat /sys/module/kgdboc/parameters/kgdboc 2>/dev/null)\";",
    "printf 'cpus_online=%s\\n' \"$(cat /sys/devices/system/cpu/online)\";",
    "printf 'nmi_watchdog=%s\\n' \"$(cat /proc/sys/kernel/nmi_watchdog 2>/dev/null)\";",
    "printf 'watchdogs=%s\\n' \"$(ls /dev/watchdog* 2>/dev/null | tr '\\n' ' ')\";",
    "if [ -d /sys/module/kgdboe ]; then echo kgdboe=loaded;",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's parameter expansion, expanded by the remote bash
    'for p in /sys/module/kgdboe/parameters/*; do printf \'param.%s=%s\\n\' "${p##*/}" "$(cat "$p")"; done;',
    "printf 'refcnt=%s\\n' \"$(cat /sys/module/kgdboe/refcnt 2>/dev/null)\"; fi;",
    `if [ -d ${REMOTE_DIR} ]; then echo workdir=yes; fi;`,
    `printf 'source_id=%s\\n' "$(cat ${SOURCE_MARK} 2>/dev/null)";`,
    `printf 'built_id=%s\\n' "$(cat ${BUILT_MARK} 2>/dev/null)";`,
    `printf 'commit=%s\\n' "$(cat ${COMMIT_MARK} 2>/dev/null)";`,
    `if [ -e ${REMOTE_UNIT} ]; then printf 'persist_sum=%s\\n' "$(cat ${REMOTE_UNIT} ${REMOTE_ENV} ${REMOTE_LOADER} 2>/dev/null | sha256sum | cut -d' ' -f1)"; fi;`,
    `if systemctl is-enabled ${UNIT_NAME} >/dev/null 2>&1; then echo unit_enabled=yes; fi`,
  ].join(" "),
} as const;

/** `key=value` lines → map (first `=` splits; later keys win). */
export function kv(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf("=");
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

export function parseOsRelease(text: string): LinuxFacts["os"] {
  const m = kv(text);
  const un = (s: string | undefined) => (s ?? "").replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
  const id = un(m.get("ID")).toLowerCase();
  const idLike = un(m.get("ID_LIKE")).toLowerCase().split(/\s+/).filter(Boolean);
  const all = [id, ...idLike];
  const family: DistroFamily = all.some((x) => x === "debian" || x === "ubuntu")
    ? "debian"
    : all.some((x) => ["fedora", "rhel", "centos"].includes(x))
      ? "fedora"
      : all.some((x) => x.startsWith("suse") || x.startsWith("opensuse") || x === "sles")
        ? "suse"
        : all.some((x) => x === "arch")
          ? "arch"
          : "unknown";
  return { id, idLike, pretty: un(m.get("PRETTY_NAME")) || id || "unknown", family };
}

/** `0-3,5` → [0,1,2,3,5] (sysfs cpu list format). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-").map((x) => Number.parseInt(x, 10));
    if (a === undefined || Number.isNaN(a)) continue;
    for (let c = a; c <= (b === undefined || Number.isNaN(b) ? a : b); c++) out.push(c);
  }
  return out;
}

export function parseNics(text: string): Nic[] {
  const nics: Nic[] = [];
  const addrs = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("nic\t")) {
      const [, name = "", driver = "-", state = "", flags = ""] = line.split("\t");
      const f = flags.split(",").filter(Boolean);
      if (name === "lo") f.push("loopback");
      nics.push({ name, driver, state, flags: f });
      continue;
    }
    // `ip -4 -o addr show`: "2: eth0    inet 10.0.2.15/24 brd … scope global eth0\ …" — the first address wins
    const a = /^\d+:\s+([^\s:@]+)[^\s]*\s+inet\s+(\d{1,3}(?:\.\d{1,3}){3})\//.exec(line);
    if (a) addrs.set(a[1]!, [...(addrs.get(a[1]!) ?? []), a[2]!]);
  }
  for (const n of nics) {
    const ips = addrs.get(n.name);
    if (ips?.length) {
      n.ipv4 = ips[0]!;
      n.ipv4All = ips;
    }
  }
  return nics;
}

/** `ip route get` text: "10.0.2.2 dev eth0 src 10.0.2.15 uid 0" / "1.1.1.1 via 192.0.2.1 dev eth0 src …". */
export function parseRouteGet(text: string): { dev: string; src?: string } | undefined {
  const dev = /\bdev\s+(\S+)/.exec(text);
  if (!dev) return undefined;
  const src = /\bsrc\s+(\S+)/.exec(text);
  return src ? { dev: dev[1]!, src: src[1]! } : { dev: dev[1]! };
}

export function secureBootState(sb: string): LinuxFacts["secureBoot"] {
  if (/SecureBoot enabled/i.test(sb) || sb === "efivar:1") return "enabled";
  if (/SecureBoot disabled/i.test(sb) || sb === "efivar:0") return "disabled";
  if (sb === "legacy") return "legacy";
  return "unknown";
}

/** The active lockdown mode from `[none] integrity confidentiality`; null when the file is absent. */
export function lockdownMode(text: string): string | null {
  const t = text.trim();
  if (!t) return null;
  const m = /\[(\w+)\]/.exec(t);
  return m ? m[1]! : t;
}

export interface ProbeOptions {
  /** The host address the target must reach (default: the SSH client address the target sees). */
  hostIp?: string;
  /** How root is reached (from core/remote.ts `elevate`, run by the caller before probing). */
  sudo?: LinuxFacts["sudo"];
  /** Probe the boot configuration too (for --apply-cmdline); the path is the grub defaults file. */
  boot?: boolean | { grubDefaults: string };
}

/** Who we are on the target and where we connect from; runs on the login session ($SSH_CONNECTION survives). */
export async function probeIdentity(remote: LinuxRemote): Promise<{ uid: number; name: string; sshClientIp?: string }> {
  const who = (await remote.run("probe: user", PROBE.whoami, { readOnly: true, root: false })).stdout.split(/\r?\n/);
  const sshClientIp = (who[2] ?? "").trim().split(/\s+/)[0];
  return { uid: Number.parseInt(who[0] ?? "", 10), name: who[1]?.trim() ?? "", ...(sshClientIp ? { sshClientIp } : {}) };
}

/** Run every probe command (all read-only) and assemble the facts. */
export async function probeLinuxTarget(remote: LinuxRemote, o: ProbeOptions = {}): Promise<LinuxFacts> {
  const id = await probeIdentity(remote);
  const sshClientIp = id.sshClientIp;
  const facts = {} as LinuxFacts;
  facts.user = { uid: id.uid, name: id.name };
  if (sshClientIp) facts.sshClientIp = sshClientIp;
  facts.sudo = o.sudo ?? (id.uid === 0 ? "root" : "missing");

  const ro = { readOnly: true } as const;
  facts.os = parseOsRelease((await remote.run("probe: distro", PROBE.osRelease, { ...ro, allowFail: true })).stdout);
  const un = (await remote.run("probe: kernel", PROBE.uname, ro)).stdout.split(/\r?\n/);
  facts.kernel = { release: un[0]?.trim() ?? "", arch: un[1]?.trim() ?? "" };
  const cfgText = (await remote.run("probe: kernel config", PROBE.kernelConfig, ro)).stdout;
  const src = /^# netdbg-config-source: (.*)$/m.exec(cfgText)?.[1]?.trim() ?? "none";
  facts.config = { source: src === "none" ? null : src, cfg: parseKernelConfig(cfgText) };
  const sec = kv((await remote.run("probe: lockdown and Secure Boot", PROBE.security, ro)).stdout);
  facts.lockdown = lockdownMode(sec.get("lockdown") ?? "");
  facts.secureBoot = secureBootState(sec.get("sb") ?? "");
  facts.sigEnforce = /^[Y1]/.test(sec.get("sig_enforce") ?? "");
  facts.cmdline = sec.get("cmdline") ?? "";
  facts.ibtCpu = (sec.get("ibt") ?? "") === "ibt";
  const gro = Number.parseInt(sec.get("gro") ?? "", 10);
  if (Number.isInteger(gro)) facts.groNormalBatch = gro;
  const toolsOut = (await remote.run("probe: headers and toolchain", PROBE.tools, ro)).stdout;
  const tk = toolsOut.split(/\r?\n/);
  facts.tools = {
    headers: tk.includes("headers=yes"),
    systemd: tk.includes("systemd=yes"),
    have: tk.filter((l) => l.startsWith("tool=")).map((l) => l.slice(5)),
  };
  const gccver = tk
    .find((l) => l.startsWith("gccver="))
    ?.slice("gccver=".length)
    .trim();
  if (gccver) facts.tools.gccVersion = gccver;
  facts.nics = parseNics((await remote.run("probe: NICs", PROBE.nics, ro)).stdout);
  const pp = pollProbe(facts.nics.map((n) => n.driver));
  if (pp) {
    const r = await remote.run("probe: NIC drivers' poll controllers", pp, { ...ro, allowFail: true });
    if (r.exitCode === 0) facts.pollCtl = parsePollProbe(r.stdout);
  }
  const hostIp = o.hostIp ?? sshClientIp;
  if (hostIp) {
    const r = await remote.run("probe: route to host", PROBE.route(hostIp), { ...ro, allowFail: true });
    const route = r.exitCode === 0 ? parseRouteGet(r.stdout) : undefined;
    if (route) facts.route = { to: hostIp, ...route };
  }
  const ks = kv((await remote.run("probe: kallsyms", PROBE.kallsyms, ro)).stdout);
  const addr = ks.get("addr");
  facts.kallsyms = { kptrRestrict: ks.get("kptr_restrict") ?? "?" };
  if (addr && /^[0-9a-f]+$/i.test(addr) && !/^0+$/.test(addr)) facts.kallsyms.address = `0x${addr.toLowerCase()}`;
  const st = kv((await remote.run("probe: kgdboe state", PROBE.state, ro)).stdout);
  facts.kgdboc = st.get("kgdboc") ?? "";
  facts.cpusOnline = parseCpuList(st.get("cpus_online") ?? "0");
  facts.nmiWatchdog = st.get("nmi_watchdog") ?? "";
  facts.watchdogDevices = (st.get("watchdogs") ?? "").split(/\s+/).filter(Boolean);
  if (o.boot) {
    const path = typeof o.boot === "object" ? o.boot.grubDefaults : GRUB_DEFAULTS;
    facts.boot = parseBootProbe((await remote.run("probe: boot configuration", bootProbe(path), ro)).stdout, path);
  }
  const params: Record<string, string> = {};
  for (const [k, v] of st) if (k.startsWith("param.")) params[k.slice(6)] = v;
  const refcnt = Number.parseInt(st.get("refcnt") ?? "", 10);
  facts.state = {
    loaded: st.get("kgdboe") === "loaded",
    params,
    ...(Number.isNaN(refcnt) ? {} : { refcnt }),
    workdir: st.get("workdir") === "yes",
    sourceId: st.get("source_id") ?? "",
    builtId: st.get("built_id") ?? "",
    commit: st.get("commit") ?? "",
    persistSum: st.get("persist_sum") ?? "",
    unitEnabled: st.get("unit_enabled") === "yes",
  };
  return facts;
}
