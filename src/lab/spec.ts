/**
 * The lab's fixed facts: names, addresses, ports, the recipes of its three artifacts and the packages each
 * step needs. Everything that goes into a cache key is here or in templates/lab/.
 */

export const LAB_VARIANTS = ["kgdb", "stock"] as const;
export type LabVariant = (typeof LAB_VARIANTS)[number];

/** Bump one when its recipe changes in a way its inputs do not show (forces a rebuild of that artifact). */
export const RECIPE_VERSION = { kernel: 1, rootfs: 1, image: 2 } as const;

export const KERNEL_FRAGMENT = "kgdb.config";

/** debootstrap --include: sshd, sudo (setup as a non-root user), a compiler and the stock Debian kernel with its headers (module builds). */
export const ROOTFS_PACKAGES = [
  "systemd-sysv",
  "udev",
  "iproute2",
  "ifupdown",
  "isc-dhcp-client",
  "openssh-server",
  "sudo",
  "gcc",
  "make",
  "libc6-dev",
  "kmod",
  "procps",
  "netbase",
  "linux-image-amd64",
  "linux-headers-amd64",
] as const;

/** Files written into the root file system after debootstrap (path inside the guest -> content). */
export const ROOTFS_FILES: Readonly<Record<string, string>> = {
  "/etc/hostname": "netdbg-lab\n",
  "/etc/hosts": "127.0.0.1 localhost\n127.0.1.1 netdbg-lab\n",
  "/etc/fstab": "/dev/vda / ext4 rw,errors=remount-ro 0 1\n",
  "/etc/network/interfaces": "auto lo\niface lo inet loopback\nallow-hotplug eth0\niface eth0 inet dhcp\n",
  "/etc/ssh/sshd_config.d/netdbg-lab.conf": "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n",
  // systemd's default (0x1b6) leaves out the debug bit, so `sendkey alt-sysrq-g` would not enter kgdb.
  "/etc/sysctl.d/90-netdbg-lab.conf": "kernel.sysrq = 1\n",
};

/**
 * Names of one lab instance. Namespaces, veths and the subnet are machine-wide, so two labs on one machine
 * (two users, two test suites) need different instances: `--instance N` / NETDBG_LAB_INSTANCE (0–63).
 * Instance 0: namespace netdbg-lab, veth ndlab0 (normal side) / ndlab1 (lab side), subnet 10.213.77.0/30;
 * instance N: netdbg-lab-N, ndlN-h / ndlN-g, 10.213.(77+N).0/30.
 */
export interface LabNames {
  instance: number;
  netns: string;
  vethHost: string;
  vethLab: string;
  defaultSubnet: string;
}

export const MAX_INSTANCE = 63;

export function labNames(instance: number): LabNames {
  if (!Number.isInteger(instance) || instance < 0 || instance > MAX_INSTANCE) throw new RangeError(`lab instance ${instance}`);
  return instance === 0
    ? { instance, netns: "netdbg-lab", vethHost: "ndlab0", vethLab: "ndlab1", defaultSubnet: "10.213.77.0/30" }
    : {
        instance,
        netns: `netdbg-lab-${instance}`,
        vethHost: `ndl${instance}-h`,
        vethLab: `ndl${instance}-g`,
        defaultSubnet: `10.213.${77 + instance}.0/30`,
      };
}

export const DEFAULT_SUBNET = labNames(0).defaultSubnet;

export const SSH_PORT = 22;
/** kgdboe's default UDP port; forwarded from the lab address to the guest's eth0. */
export const KGDBOE_PORT = 31337;
/** The serial relay: clients (gdb `target remote udp:LAB:31338`) send here. */
export const KGDBOC_PORT = 31338;
/** QEMU's `-serial udp:127.0.0.1:PEER@127.0.0.1:LOCAL` inside the lab namespace (the relay binds PEER). */
export const SERIAL_PEER_PORT = 5555;
export const SERIAL_LOCAL_PORT = 5556;

export const GUEST_MEMORY_MB = 1024;
export const DISK_SIZE = "4G";
export const SSH_WAIT_SECONDS = 300;

/** Program -> the Debian package that provides it (for "missing tool" errors). */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  "qemu-system-x86_64": "qemu-system-x86",
  ip: "iproute2",
  sysctl: "procps",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
  "start-stop-daemon": "dpkg",
  "dpkg-deb": "dpkg",
  socat: "socat",
  debootstrap: "debootstrap",
  "mkfs.ext4": "e2fsprogs",
  depmod: "kmod",
  make: "make",
  gcc: "gcc",
  bc: "bc",
  bison: "bison",
  flex: "flex",
  xz: "xz-utils",
  rsync: "rsync",
  fakeroot: "fakeroot",
  "dpkg-buildpackage": "dpkg-dev",
  pahole: "dwarves",
  tar: "tar",
  cpio: "cpio",
};

/** Packages that are libraries (no program to look for): checked with dpkg-query. */
/** Plus the kernel source package distro.ts picks for the host's suite. */
export const KERNEL_BUILD_PACKAGES = ["libelf-dev", "libssl-dev"] as const;

export const TOOLS_KERNEL = ["make", "gcc", "bc", "bison", "flex", "xz", "rsync", "fakeroot", "dpkg-buildpackage", "tar", "cpio"];
export const TOOLS_ROOTFS = ["debootstrap", "ssh-keygen"];
export const TOOLS_IMAGE = ["mkfs.ext4", "depmod", "dpkg-deb"];
export const TOOLS_UP = ["qemu-system-x86_64", "ip", "sysctl", "ssh", "start-stop-daemon"];
