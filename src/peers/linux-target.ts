/**
 * An in-memory Linux target behind the RemoteSession port: a command table (exact probe scripts and patterns for
 * the commands setup/teardown send) over a small state model (files, loaded module, CPUs, kernel log), so probe →
 * plan → apply → verify → teardown run against it and the result can be inspected afterwards. src/peers/linux.ts
 * puts it behind a real SSH server for `netdbg demo`.
 */
import { createHash } from "node:crypto";
import type { CommandResult, RemoteSession, RunOptions } from "../core/interfaces.js";
import { SUDO_PROBE } from "../core/remote.js";
import { bootProbe } from "../targets/linux/cmdline.js";
import { PROBE } from "../targets/linux/probe.js";

export interface LinuxTargetState {
  release: string;
  config: string;
  lockdown: string;
  cpusOnline: number[];
  files: Map<string, string>;
  loaded: Record<string, string> | null;
  dmesg: string[];
  unitEnabled: boolean;
  kgdboc: string;
  /** The kernel ignores writes to kgdboc's parameter (it keeps its value). */
  kgdbocStuck?: boolean;
  /** /proc/cmdline. */
  cmdline: string;
  headers: boolean;
  /** net.core.gro_normal_batch (upstream kgdboe sets it to 1 at load and never restores it). */
  groNormalBatch: number;
  /** What `gcc -dumpfullversion` prints (the default compiler). */
  gcc: string;
  /** Versioned compilers installed beside it (gcc-12, …). */
  extraTools: string[];
  /** The packages apt's sources offer (after `apt-get update`); anything else is "Unable to locate package". */
  aptAvailable: string[];
  /** Boot configuration (for --apply-cmdline): tools, /etc/default/grub text, grubby kernels, regenerations. */
  boot: {
    tools: string[];
    files: string[];
    systemdBoot: boolean;
    grubDefaults?: string;
    grubby: { kernel: string; args: string[] }[];
    regenerated: string[];
  };
  /** Lines the next insmod prints to the kernel log instead of succeeding (and its stderr). */
  insmodFailure?: { dmesg: string[]; stderr: string };
  /** Further IPv4 addresses of eth0, after its first (10.0.2.15), which kgdboe takes. */
  eth0MoreAddresses?: string[];
}

const ok = (stdout = ""): CommandResult => ({ stdout, stderr: "", exitCode: 0 });
const fail = (stderr: string, exitCode = 1, stdout = ""): CommandResult => ({ stdout, stderr, exitCode });

export const KGDB_CONFIG = [
  "CONFIG_MODULES=y",
  "CONFIG_KGDB=y",
  "CONFIG_KGDB_KDB=y",
  "CONFIG_NETPOLL=y",
  "CONFIG_TRACEPOINTS=y",
  "CONFIG_KALLSYMS=y",
  "CONFIG_KALLSYMS_ALL=y",
  "CONFIG_HOTPLUG_CPU=y",
  "CONFIG_SMP=y",
  "# CONFIG_RANDOMIZE_BASE is not set",
].join("\n");

export class LinuxTargetModel implements RemoteSession {
  readonly description = "fake linux target";
  readonly log: string[] = [];
  readonly uploads: string[] = [];
  state: LinuxTargetState;
  /** When set, called before every exec/upload; throw to simulate a cut connection. */
  cut: ((command: string) => boolean) | undefined;

  constructor(init: Partial<LinuxTargetState> = {}) {
    this.state = {
      release: "6.1.192-kgdb",
      config: KGDB_CONFIG,
      lockdown: "",
      cpusOnline: [0, 1],
      files: new Map(),
      loaded: null,
      dmesg: ["Linux version 6.1.192-kgdb"],
      unitEnabled: false,
      kgdboc: "",
      cmdline: "console=ttyS0 root=/dev/vda net.ifnames=0",
      headers: true,
      groNormalBatch: 8,
      gcc: "12.2.0",
      extraTools: [],
      aptAvailable: [`linux-headers-${init.release ?? "6.1.192-kgdb"}`, "gcc", "make", "gcc-12", "gcc-13", "gcc-14"],
      boot: { tools: [], files: [], systemdBoot: false, grubby: [], regenerated: [] },
      ...init,
    };
  }

  private hasPrefix(p: string) {
    return [...this.state.files.keys()].some((f) => f === p || f.startsWith(`${p}/`));
  }
  private rmTree(p: string) {
    for (const f of [...this.state.files.keys()]) if (f === p || f.startsWith(`${p}/`)) this.state.files.delete(f);
  }

  async exec(command: string, _o?: RunOptions): Promise<CommandResult> {
    if (this.cut?.(command)) throw new Error("SSH connection lost (fake cut)");
    this.log.push(command);
    return this.handle(command);
  }

  async upload(src: { path: string } | { content: string | Uint8Array }, remotePath: string): Promise<void> {
    if (this.cut?.(`sftp put ${remotePath}`)) throw new Error("SSH connection lost (fake cut)");
    this.uploads.push(remotePath);
    const c =
      "content" in src ? (typeof src.content === "string" ? src.content : Buffer.from(src.content).toString("latin1")) : "";
    this.state.files.set(remotePath, c);
  }

  async download(remotePath: string): Promise<Uint8Array> {
    const f = this.state.files.get(remotePath);
    if (f === undefined) throw new Error(`${remotePath}: No such file`);
    return Buffer.from(f, "latin1");
  }
  async close(): Promise<void> {}

  private handle(cmd: string): CommandResult {
    const s = this.state;
    switch (cmd) {
      case SUDO_PROBE:
        return ok("root root\n");
      case PROBE.whoami:
        return ok("0\nroot\n10.0.2.2 41234 10.0.2.15 22\n");
      case PROBE.osRelease:
        return ok('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n');
      case PROBE.uname:
        return ok(`${s.release}\nx86_64\n`);
      case PROBE.kernelConfig:
        return ok(`# netdbg-config-source: /boot/config-${s.release}\n${s.config}\n`);
      case PROBE.security:
        return ok(`lockdown=${s.lockdown}\nsb=legacy\nsig_enforce=N\ncmdline=${s.cmdline}\ngro=${s.groNormalBatch}\nibt=\n`);
      case PROBE.tools:
        return ok(
          `headers=${s.headers ? "yes" : "no"}\ntool=gcc\ntool=make\ntool=tar\ntool=insmod\ntool=systemctl\ntool=apt-get\n${s.extraTools.map((t) => `tool=${t}\n`).join("")}gccver=${s.gcc}\nsystemd=yes\n`,
        );
      case PROBE.nics:
        return ok(
          "nic\teth0\te1000\tup\t\nnic\tlo\t-\tunknown\tvirtual\n" +
            "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
            "2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic eth0\\       valid_lft 86313sec preferred_lft 86313sec\n" +
            (s.eth0MoreAddresses ?? [])
              .map((a) => `2: eth0    inet ${a}/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever\n`)
              .join(""),
        );
      case PROBE.route("10.0.2.2"):
        return ok("10.0.2.2 dev eth0 src 10.0.2.15 uid 0 \n    cache \n");
      case PROBE.kallsyms:
        return ok("addr=ffffffff8113d2a0\nkptr_restrict=0\n");
      case PROBE.state: {
        const out = [`kgdboc=${s.kgdboc}`, `cpus_online=${s.cpusOnline.join(",")}`, "nmi_watchdog=0", "watchdogs="];
        if (s.loaded) {
          out.push("kgdboe=loaded");
          for (const [k, v] of Object.entries(s.loaded)) out.push(`param.${k}=${v}`);
          out.push("refcnt=0");
        }
        if (this.hasPrefix("/var/lib/netdbg/kgdboe")) out.push("workdir=yes");
        out.push(`source_id=${(s.files.get("/var/lib/netdbg/kgdboe/src/.netdbg-source") ?? "").trim()}`);
        out.push(`built_id=${(s.files.get("/var/lib/netdbg/kgdboe/src/.netdbg-built") ?? "").trim()}`);
        out.push(`commit=${(s.files.get("/var/lib/netdbg/kgdboe/src/.netdbg-commit") ?? "").trim()}`);
        const unit = s.files.get("/etc/systemd/system/netdbg-kgdboe.service");
        if (unit !== undefined) {
          const all =
            unit + (s.files.get("/etc/netdbg/kgdboe.env") ?? "") + (s.files.get("/var/lib/netdbg/kgdboe/load.sh") ?? "");
          out.push(`persist_sum=${createHash("sha256").update(all).digest("hex")}`);
        }
        if (s.unitEnabled) out.push("unit_enabled=yes");
        return ok(`${out.join("\n")}\n`);
      }
      case 'echo > /sys/module/kgdboc/parameters/kgdboc && [ -z "$(cat /sys/module/kgdboc/parameters/kgdboc)" ]':
        if (s.loaded) return fail("sh: write error: Device or resource busy");
        if (s.kgdbocStuck) return fail("");
        s.kgdboc = "";
        s.dmesg.push("KGDB: Unregistered I/O driver kgdboc, debugger disabled");
        return ok();
      case "mkdir -p /etc/netdbg":
      case "systemctl daemon-reload":
        return ok();
      case "systemctl enable netdbg-kgdboe.service":
        if (!s.files.has("/etc/systemd/system/netdbg-kgdboe.service"))
          return fail("Failed to enable unit: Unit file netdbg-kgdboe.service does not exist.");
        s.unitEnabled = true;
        return ok();
      case "systemctl disable netdbg-kgdboe.service":
        s.unitEnabled = false;
        return ok();
      case "rm -f /etc/systemd/system/netdbg-kgdboe.service /etc/netdbg/kgdboe.env /var/lib/netdbg/kgdboe/load.sh; rmdir /etc/netdbg 2>/dev/null || true; systemctl daemon-reload":
        for (const f of ["/etc/systemd/system/netdbg-kgdboe.service", "/etc/netdbg/kgdboe.env", "/var/lib/netdbg/kgdboe/load.sh"])
          s.files.delete(f);
        return ok();
      case "dmesg | wc -l":
        return ok(`${s.dmesg.length}\n`);
      case "cat /sys/module/kgdboe/parameters/device_name /sys/module/kgdboe/parameters/udp_port":
        return s.loaded
          ? ok(`${s.loaded.device_name}\n${s.loaded.udp_port}\n`)
          : fail("cat: /sys/module/kgdboe/parameters/device_name: No such file or directory");
      case "dmesg | grep -E 'kgdboe|KGDB|kgdb|target remote udp:' | tail -n 200":
        return ok(`${s.dmesg.filter((l) => /kgdboe|KGDB|kgdb|target remote udp:/.test(l)).join("\n")}\n`);
      case "mkdir -p /var/lib/netdbg/kgdboe":
        s.files.set("/var/lib/netdbg/kgdboe/.dir", "");
        return ok();
      case "rm -rf /var/lib/netdbg/kgdboe; rmdir /var/lib/netdbg 2>/dev/null || true":
        this.rmTree("/var/lib/netdbg/kgdboe");
        return ok();
      case "rm -f /var/lib/netdbg/kgdboe/src/.netdbg-built /var/lib/netdbg/kgdboe/src/kgdboe.ko":
        s.files.delete("/var/lib/netdbg/kgdboe/src/.netdbg-built");
        s.files.delete("/var/lib/netdbg/kgdboe/src/kgdboe.ko");
        return ok();
      case "rm -rf /var/lib/netdbg/kgdboe/src":
        this.rmTree("/var/lib/netdbg/kgdboe/src");
        return ok();
      case "rm -rf /var/lib/netdbg/kgdboe/src && mkdir -p /var/lib/netdbg/kgdboe/src":
        this.rmTree("/var/lib/netdbg/kgdboe/src");
        return ok();
    }
    const boot = this.boot(cmd);
    if (boot) return boot;
    let m: RegExpExecArray | null;
    if ((m = /^printf '%s\\n' '?([^' ]+)'? > \/sys\/module\/kgdboc\/parameters\/kgdboc$/.exec(cmd))) {
      if (s.loaded) return fail("sh: write error: Device or resource busy");
      s.kgdboc = m[1]!;
      return ok();
    }
    if ((m = /^printf '%s\\n' (\d+) > \/proc\/sys\/net\/core\/gro_normal_batch$/.exec(cmd))) {
      s.groNormalBatch = Number(m[1]);
      return ok();
    }
    if ((m = /^dmesg \| tail -n \+(\d+)$/.exec(cmd))) return ok(`${s.dmesg.slice(Number(m[1]) - 1).join("\n")}\n`);
    if ((m = /^printf '%s\\n' '?([^' ]+)'? > (\S+)$/.exec(cmd))) {
      s.files.set(m[2]!, `${m[1]}\n`);
      return ok();
    }
    if (
      (m = /^make -C \/lib\/modules\/(\S+)\/build M=(\S+)(?: CC=(\S+))? modules && printf '%s\\n' '?([^' ]+)'? > (\S+)$/.exec(
        cmd,
      ))
    ) {
      if (!s.headers) return fail(`make: *** /lib/modules/${m[1]}/build: No such file or directory.  Stop.\n`, 2);
      if (!s.files.has(`${m[2]}/Makefile`)) return fail(`make: *** No rule to make target`, 2);
      // kbuild with another gcc major than the kernel's: the kernel's flags are unknown to it (Ubuntu HWE on gcc 11)
      const cc = m[3] ?? "gcc";
      const kernelGcc = /^CONFIG_GCC_VERSION=(\d+)$/m.exec(s.config)?.[1];
      const ccMajor = cc === "gcc" ? Number.parseInt(s.gcc, 10) : Number(/^gcc-(\d+)$/.exec(cc)?.[1]);
      if (cc !== "gcc" && !s.extraTools.includes(cc)) return fail(`make[1]: ${cc}: No such file or directory\n`, 2);
      if (kernelGcc && Math.floor(Number(kernelGcc) / 10000) !== ccMajor)
        return fail(
          `warning: the compiler differs from the one used to build the kernel\n${cc}: error: unrecognized command-line option '-ftrivial-auto-var-init=zero'\nmake[2]: *** [scripts/Makefile.build:243: ${m[2]}/kgdboe_main.o] Error 1\n`,
          2,
        );
      if (!/^CONFIG_KGDB=y$/m.test(s.config))
        return fail(
          `${m[2]}/kgdboe.c:47:2: error: #error Your kernel is built without support for KGDB (kernel debugger). Please rebuild your kernel with CONFIG_KGDB enabled.\n`,
          2,
        );
      s.files.set(`${m[2]}/kgdboe.ko`, "ELF");
      s.files.set(m[5]!, `${m[4]}\n`);
      return ok(`  CC [M]  ${m[2]}/kgdboe.o\n  LD [M]  ${m[2]}/kgdboe.ko\n`);
    }
    if ((m = /^(rmmod kgdboe && )?insmod (\S+) (.*)$/.exec(cmd))) {
      if (m[1]) this.unload();
      if (!s.files.has(m[2]!)) return fail(`insmod: ERROR: could not load module ${m[2]}: No such file or directory`);
      if (s.loaded) return fail(`insmod: ERROR: could not insert module ${m[2]}: File exists`);
      if (s.kgdboc) {
        s.dmesg.push("KGDB: KGDB I/O driver kgdboe can't replace kgdboc.");
        return fail(`insmod: ERROR: could not insert module ${m[2]}: Device or resource busy`);
      }
      if (s.insmodFailure) {
        s.dmesg.push(...s.insmodFailure.dmesg);
        const e = s.insmodFailure.stderr;
        delete s.insmodFailure;
        return fail(e);
      }
      const params = Object.fromEntries(m[3]!.split(" ").map((kv) => kv.split("=") as [string, string]));
      s.loaded = params;
      // upstream kgdboe (kgdboe_io_init) sets gro_normal_batch to 1 and never restores it; the bundled module does not
      const src = s.files.get(m[2]!.replace(/kgdboe\.ko$/, "kgdboe.c")) ?? "";
      if (!src.includes("kgdboe-compat")) s.groNormalBatch = 1;
      s.dmesg.push("netpoll: kgdboe: local IP 10.0.2.15");
      if (params.force_single_core === "1" && s.cpusOnline.length > 1) {
        s.dmesg.push("kgdboe: single-core mode enabled. Shutting down all cores except #0. This is slower, but safer.");
        s.cpusOnline = [0];
      }
      s.dmesg.push(
        "KGDB: Registered I/O driver kgdboe",
        "kgdboe: Successfully initialized. Use the following gdb command to attach:",
        `\ttarget remote udp:10.0.2.15:${params.udp_port}`,
      );
      return ok();
    }
    if (
      (m =
        /^if \[ -d \/sys\/module\/kgdboe \]; then rmmod kgdboe; fi(?: && for c in ([\d ]+); do echo 1 > \/sys\/devices\/system\/cpu\/cpu\$c\/online; done)?$/.exec(
          cmd,
        ))
    ) {
      this.unload();
      if (m[1]) for (const c of m[1].split(" ").map(Number)) if (!s.cpusOnline.includes(c)) s.cpusOnline.push(c);
      s.cpusOnline.sort();
      return ok();
    }
    const apt = this.apt(cmd);
    if (apt) return apt;
    return fail(`fake target: unknown command: ${cmd}`, 127);
  }

  /** --apply-cmdline commands (src/targets/linux/cmdline.ts) over the boot state. */
  private boot(cmd: string): CommandResult | undefined {
    const b = this.state.boot;
    const files = this.state.files;
    const sum = (t: string) => createHash("sha256").update(t).digest("hex");
    const grubSum = () => sum(b.grubDefaults ?? "");
    if (cmd === bootProbe()) {
      const out = [...b.tools.map((t) => `tool=${t}`), ...b.files.map((f) => `file=${f}`)];
      if (b.systemdBoot) out.push("sdboot=yes");
      if (b.tools.includes("grubby"))
        for (const k of b.grubby) out.push(`grubby.kernel="${k.kernel}"`, `grubby.args="${k.args.join(" ")}"`);
      let text = `${out.join("\n")}\n`;
      if (b.grubDefaults !== undefined) text += `grub_sha256=${grubSum()}\n--- netdbg grub defaults\n${b.grubDefaults}`;
      return ok(text);
    }
    const SUM = String.raw`"\$\(sha256sum < /etc/default/grub \| cut -d' ' -f1\)"`;
    let m = new RegExp(
      `^mkdir -p /var/lib/netdbg/cmdline && \\[ ${SUM} = ([0-9a-f]{64}) \\] && \\{ \\[ -e (\\S+) \\] \\|\\| cp -p /etc/default/grub \\2; \\}$`,
    ).exec(cmd);
    if (m) {
      if (grubSum() !== m[1]) return fail("", 1);
      if (!files.has(m[2]!)) files.set(m[2]!, b.grubDefaults ?? "");
      return ok();
    }
    m = new RegExp(
      `^\\[ ${SUM} = ([0-9a-f]{64}) \\] && cat (\\S+) > /etc/default/grub && rm -f \\2 && (update-grub|grub-mkconfig -o \\S+|grub2-mkconfig -o \\S+)$`,
    ).exec(cmd);
    if (m) {
      if (grubSum() !== m[1]) return fail("", 1);
      b.grubDefaults = files.get(m[2]!)!;
      files.delete(m[2]!);
      b.regenerated.push(m[3]!);
      return ok();
    }
    m = new RegExp(
      `^if \\[ -e (\\S+) \\]; then if \\[ ${SUM} != ([0-9a-f]{64}) \\]; then echo '([^']*)' >&2; exit 1; fi; cat \\1 > /etc/default/grub && rm -f \\1 && \\{ rmdir /var/lib/netdbg/cmdline 2>/dev/null \\|\\| true; \\} && (update-grub|grub-mkconfig -o \\S+|grub2-mkconfig -o \\S+); fi$`,
    ).exec(cmd);
    if (m) {
      if (!files.has(m[1]!)) return ok();
      if (grubSum() !== m[2]) return fail(m[3]!, 1);
      b.grubDefaults = files.get(m[1]!)!;
      files.delete(m[1]!);
      b.regenerated.push(m[4]!);
      return ok();
    }
    if (cmd.startsWith("grubby ")) {
      for (const part of cmd.split(" && ")) {
        const g = /^grubby --update-kernel=(\S+) '?--(args|remove-args)=([^']*)'?$/.exec(part);
        if (!g) return fail(`grubby: bad command ${part}`, 1);
        const ks = b.grubby.filter((k) => g[1] === "ALL" || k.kernel === g[1]);
        if (!ks.length) return fail(`grubby: no kernel ${g[1]}`, 1);
        const words = g[3]!.split(" ");
        for (const k of ks)
          k.args =
            g[2] === "args" ? [...k.args, ...words.filter((w) => !k.args.includes(w))] : k.args.filter((w) => !words.includes(w));
      }
      return ok();
    }
    return undefined;
  }

  /** apt-get as Debian's: install all or nothing, "Unable to locate package" for what the sources lack. */
  private apt(cmd: string): CommandResult | undefined {
    const s = this.state;
    const install = /^apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends (.+)$/.exec(
      cmd,
    );
    const remove = /^DEBIAN_FRONTEND=noninteractive apt-get remove -y (.+)$/.exec(cmd);
    const m = install ?? remove;
    if (!m) return undefined;
    const pkgs = m[1]!.split(" ").map((p) => p.replace(/^'|'$/g, ""));
    const effect = (p: string, on: boolean) => {
      if (p === `linux-headers-${s.release}`) s.headers = on;
      else if (/^gcc-\d+$/.test(p)) s.extraTools = on ? [...s.extraTools, p] : s.extraTools.filter((t) => t !== p);
    };
    if (remove) {
      for (const p of pkgs) effect(p, false);
      return ok();
    }
    const lacking = pkgs.find((p) => !s.aptAvailable.includes(p));
    if (lacking) return fail(`E: Unable to locate package ${lacking}\n`, 100, "Reading package lists...\n");
    for (const p of pkgs) effect(p, true);
    return ok(`Setting up ${pkgs.join(", ")} ...\n`);
  }

  private unload() {
    if (!this.state.loaded) return;
    this.state.loaded = null;
    this.state.dmesg.push("KGDB: Unregistered I/O driver kgdboe, debugger disabled");
  }

  /** Files netdbg left behind (the workdir marker counts). */
  leftovers(): string[] {
    return [...this.state.files.keys()];
  }
}
