/**
 * The QEMU command line of the lab VM (QEMU 7.2, Debian 12's qemu-system-x86; options per its man page).
 * Pure: the same inputs give the same argv, so it is unit-tested byte for byte.
 *
 * - `-netdev user` (slirp) with host forwards bound to the lab's own address inside the lab namespace:
 *   TCP 22 (SSH) and UDP 31337 (kgdboe). The namespace has no route but its /30 link, so neither QEMU nor
 *   the guest behind slirp can reach anything else. (`restrict=on` is not used: it drops UDP forward replies.)
 * - ttyS0 = console to a file; ttyS1 = `-serial udp:127.0.0.1:PEER@127.0.0.1:LOCAL` (QEMU sends to PEER,
 *   listens on LOCAL) for kgdboc. The lab's relay binds PEER before QEMU starts: QEMU stops reading its UDP
 *   chardev for good after one ECONNREFUSED (chardev/char-udp.c), which a write with no listener causes.
 * - `snapshot=on` keeps the cached disk image pristine; every boot starts from the same state.
 */
import { KGDBOE_PORT, type LabVariant, SERIAL_LOCAL_PORT, SERIAL_PEER_PORT, SSH_PORT } from "./spec.js";

/** The guest's NIC: QEMU's e1000 (its driver has ndo_poll_controller) or virtio-net (none: upstream kgdboe refuses it). */
export type LabNic = "e1000" | "virtio";
export const LAB_NICS: readonly LabNic[] = ["e1000", "virtio"];

export interface QemuPlan {
  variant: LabVariant;
  accel: "tcg" | "kvm";
  smp: number;
  /** Default e1000. */
  nic?: LabNic;
  memoryMb: number;
  kernel: string;
  /** The stock Debian kernel needs its initramfs (virtio/e1000/ext4 are modules there). */
  initrd?: string;
  disk: string;
  labAddress: string;
  consoleLog: string;
  monitorSocket: string;
  pidFile: string;
}

/** QEMU option values escape a comma by doubling it (QEMU man page, "-drive file=…"). */
export const qemuValue = (v: string) => v.replaceAll(",", ",,");

export function kernelCommandLine(variant: LabVariant): string {
  const base = ["root=/dev/vda", "rw", "console=ttyS0,115200", "net.ifnames=0", "panic=-1", "nokaslr"];
  return (variant === "kgdb" ? [...base, "kgdboc=ttyS1,115200"] : base).join(" ");
}

export function qemuArgs(p: QemuPlan): string[] {
  const accel = p.accel === "tcg" && p.smp > 1 ? "tcg,thread=multi" : p.accel;
  const fwd = [`hostfwd=tcp:${p.labAddress}:${SSH_PORT}-:22`, `hostfwd=udp:${p.labAddress}:${KGDBOE_PORT}-:${KGDBOE_PORT}`];
  return [
    "-name",
    `netdbg-lab-${p.variant}`,
    "-accel",
    accel,
    "-m",
    String(p.memoryMb),
    "-smp",
    String(p.smp),
    "-display",
    "none",
    "-no-reboot",
    "-kernel",
    p.kernel,
    ...(p.initrd ? ["-initrd", p.initrd] : []),
    "-append",
    kernelCommandLine(p.variant),
    "-drive",
    `file=${qemuValue(p.disk)},if=virtio,format=raw,snapshot=on`,
    "-netdev",
    `user,id=n0,${fwd.join(",")}`,
    "-device",
    `${p.nic === "virtio" ? "virtio-net-pci" : "e1000"},netdev=n0`,
    "-serial",
    `file:${qemuValue(p.consoleLog)}`,
    "-serial",
    `udp:127.0.0.1:${SERIAL_PEER_PORT}@127.0.0.1:${SERIAL_LOCAL_PORT}`,
    "-monitor",
    `unix:${qemuValue(p.monitorSocket)},server,nowait`,
    "-pidfile",
    p.pidFile,
    "-daemonize",
  ];
}
