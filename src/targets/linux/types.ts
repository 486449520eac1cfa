/**
 * The types the Linux target modules share: the probed facts (probe.ts, cmdline.ts) and the planned actions
 * (plan.ts, cmdline.ts, setup.ts). Types only: the modules that produce and read them need not import each other.
 */
import type { Action } from "../../core/step.js";
import type { KernelConfig } from "./kconfig.js";
import type { parsePollProbe } from "./pollctl.js";

export type DistroFamily = "debian" | "fedora" | "suse" | "arch" | "unknown";

export interface Nic {
  name: string;
  driver: string;
  state: string;
  /** wireless, usb, enslaved, bridge-port, bond-slave, bridge, bond, virtual, loopback */
  flags: string[];
  ipv4?: string;
  /** Every IPv4 address of the NIC, the first (ipv4) first. */
  ipv4All?: string[];
}

export interface LinuxFacts {
  user: { uid: number; name: string };
  /** Client address of our SSH connection as the target sees it ($SSH_CONNECTION). */
  sshClientIp?: string;
  sudo: "root" | "nopasswd" | "password" | "missing";
  os: { id: string; idLike: string[]; pretty: string; family: DistroFamily };
  kernel: { release: string; arch: string };
  config: { source: string | null; cfg: KernelConfig };
  lockdown: string | null;
  secureBoot: "enabled" | "disabled" | "legacy" | "unknown";
  sigEnforce: boolean;
  cmdline: string;
  ibtCpu: boolean;
  /** net.core.gro_normal_batch (kernels since 5.4), which upstream kgdboe sets to 1 and never restores. */
  groNormalBatch?: number;
  /** gccVersion: what the target's default `gcc` reports (`gcc -dumpfullversion`), when it has one. */
  tools: { headers: boolean; systemd: boolean; have: string[]; gccVersion?: string };
  nics: Nic[];
  /** What /proc/kallsyms says about each NIC driver module's poll controller (pollctl.ts); absent: not probed. */
  pollCtl?: ReturnType<typeof parsePollProbe>;
  route?: { to: string; dev: string; src?: string };
  kallsyms: { address?: string; kptrRestrict: string };
  kgdboc: string;
  cpusOnline: number[];
  nmiWatchdog: string;
  watchdogDevices: string[];
  /** Boot configuration (bootloader, grub defaults file): probed only for --apply-cmdline. */
  boot?: BootFacts;
  state: {
    loaded: boolean;
    params: Record<string, string>;
    refcnt?: number;
    workdir: boolean;
    sourceId: string;
    builtId: string;
    commit: string;
    persistSum: string;
    unitEnabled: boolean;
  };
}

export interface BootFacts {
  tools: string[];
  files: string[];
  systemdBoot: boolean;
  grubby: { kernel: string; args: string[] }[];
  /** The grub defaults file as read (undefined when absent) and its sha256. */
  grubDefaults?: { path: string; text: string; sha256: string };
}

/** How apply carries out an action beyond running its command. */
export type Execution =
  | { kind: "sh"; script: string; timeoutMs?: number; classify?: "build" | "load" | "kgdboc" | "deps" }
  | {
      kind: "upload";
      before: string;
      files: { remotePath: string; content: Uint8Array | string; mode?: number }[];
      after: string;
    };

export interface LinuxAction extends Action {
  exec: Execution;
}
