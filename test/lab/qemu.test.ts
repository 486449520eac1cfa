import { describe, expect, it } from "vitest";
import { kernelCommandLine, qemuArgs } from "../../src/lab/qemu.js";

const base = {
  accel: "tcg" as const,
  smp: 1,
  memoryMb: 1024,
  kernel: "/c/kernel/bzImage",
  disk: "/c/image/disk.img",
  labAddress: "10.213.77.2",
  consoleLog: "/s/console.log",
  monitorSocket: "/s/monitor.sock",
  pidFile: "/s/qemu.pid",
};

describe("QEMU command line", () => {
  it("kgdb variant: kgdboc on ttyS1, serial 2 wired to UDP, forwards on the lab address, pristine disk", () => {
    const a = qemuArgs({ ...base, variant: "kgdb" });
    expect(a.join(" ")).toBe(
      [
        "-name netdbg-lab-kgdb -accel tcg -m 1024 -smp 1 -display none -no-reboot -kernel /c/kernel/bzImage",
        "-append root=/dev/vda rw console=ttyS0,115200 net.ifnames=0 panic=-1 nokaslr kgdboc=ttyS1,115200",
        "-drive file=/c/image/disk.img,if=virtio,format=raw,snapshot=on",
        "-netdev user,id=n0,hostfwd=tcp:10.213.77.2:22-:22,hostfwd=udp:10.213.77.2:31337-:31337 -device e1000,netdev=n0",
        "-serial file:/s/console.log -serial udp:127.0.0.1:5555@127.0.0.1:5556",
        "-monitor unix:/s/monitor.sock,server,nowait -pidfile /s/qemu.pid -daemonize",
      ].join(" "),
    );
    expect(a).not.toContain("restrict=on");
  });

  it("stock variant boots Debian's kernel with its initrd and no kgdboc", () => {
    const a = qemuArgs({ ...base, variant: "stock", kernel: "/c/rootfs/stock-vmlinuz", initrd: "/c/rootfs/stock-initrd.img" });
    expect(a.slice(a.indexOf("-initrd"), a.indexOf("-initrd") + 2)).toEqual(["-initrd", "/c/rootfs/stock-initrd.img"]);
    expect(kernelCommandLine("stock")).not.toContain("kgdboc");
  });

  it("multi-threaded TCG for -smp > 1, commas in paths doubled", () => {
    const a = qemuArgs({ ...base, variant: "kgdb", smp: 2, disk: "/c/a,b/disk.img" });
    expect(a[a.indexOf("-accel") + 1]).toBe("tcg,thread=multi");
    expect(a).toContain("file=/c/a,,b/disk.img,if=virtio,format=raw,snapshot=on");
  });

  it("--nic virtio gives the guest a virtio-net NIC on the same netdev (no poll controller: upstream refuses it)", () => {
    const a = qemuArgs({ ...base, variant: "kgdb", nic: "virtio" });
    expect(a[a.indexOf("-device") + 1]).toBe("virtio-net-pci,netdev=n0");
    expect(qemuArgs({ ...base, variant: "kgdb", nic: "e1000" })).toContain("e1000,netdev=n0");
  });
});
