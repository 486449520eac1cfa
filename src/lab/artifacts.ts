/**
 * The lab's three cached artifacts, each in its own directory under the cache, named by a content hash of
 * its inputs, and only ever created by renaming a finished `<dir>.tmp` (so a crash never leaves a
 * half-artifact that looks cached):
 *
 *   kernel-<hash>  KGDB kernel from Debian's linux-source-6.1 (6.12 on trixie) + templates/lab/kgdb.config:
 *                  bzImage, vmlinux (symbols), config, kernel.release, linux-image/headers .debs
 *   rootfs-<hash>  debootstrap tree of the host's suite (bookworm or trixie) (sshd, gcc/make, stock Debian kernel + headers),
 *                  the lab's SSH key pair, the guest's host key, the stock kernel + initrd
 *   image-<hash>   disk.img: the rootfs plus the KGDB kernel's image and headers (ext4, built with mkfs -d)
 */
import { netdbgError } from "../core/error.js";
import { mustRun } from "./exec.js";
import { inputsHash } from "./hash.js";
import { type LabDistro, labDistro } from "./distro.js";
import { parseKconfig, unmetAssignments } from "./kconfig.js";
import { parseAptSources, pickMirror } from "./mirror.js";
import type { LabDeps, LabPaths } from "./ports.js";
import { DISK_SIZE, KERNEL_FRAGMENT, RECIPE_VERSION, ROOTFS_FILES, ROOTFS_PACKAGES } from "./spec.js";

export type ArtifactKind = "kernel" | "rootfs" | "image";

export interface Artifact {
  kind: ArtifactKind;
  key: string;
  dir: string;
  cached: boolean;
  /** The Debian suite and kernel source the keys were computed for (see distro.ts). */
  distro: LabDistro;
}

export interface KernelOutputs {
  dir: string;
  bzImage: string;
  vmlinux: string;
  release: string;
  imageDeb: string;
  headersDeb: string;
}

export interface RootfsOutputs {
  dir: string;
  tree: string;
  identityFile: string;
  hostKeyPub: string;
  stockKernel: string;
  stockInitrd: string;
  stockRelease: string;
}

export interface ImageOutputs {
  dir: string;
  disk: string;
}

export interface LabArtifacts {
  kernel: KernelOutputs;
  rootfs: RootfsOutputs;
  image: ImageOutputs;
}

const join = (...parts: string[]) => parts.join("/").replace(/\/+/g, "/");
const MANIFEST = "manifest.json";

/** Everything the kernel artifact depends on. */
export async function kernelInputs(deps: LabDeps, paths: LabPaths, distro: LabDistro) {
  const fragment = await deps.fs.readText(join(paths.templates, KERNEL_FRAGMENT));
  const v = await deps.runner.run("dpkg-query", ["-W", "-f=$" + "{Version}", distro.kernelSource]);
  return {
    kind: "kernel",
    recipe: RECIPE_VERSION.kernel,
    base: ["x86_64_defconfig", "kvm_guest.config"],
    fragment,
    source: { package: distro.kernelSource, version: v.exitCode === 0 ? v.stdout.trim() : "not installed" },
  };
}

export function rootfsInputs(suite: string) {
  return {
    kind: "rootfs",
    recipe: RECIPE_VERSION.rootfs,
    suite,
    variant: "minbase",
    packages: [...ROOTFS_PACKAGES],
    files: ROOTFS_FILES,
  };
}

export function imageInputs(kernelKey: string, rootfsKey: string) {
  return { kind: "image", recipe: RECIPE_VERSION.image, kernel: kernelKey, rootfs: rootfsKey, size: DISK_SIZE, fs: "ext4" };
}

/** Keys and cache state of all three artifacts, without building anything. */
export async function planArtifacts(
  deps: LabDeps,
  paths: LabPaths,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<ArtifactKind, Artifact>> {
  const distro = await labDistro(deps, env);
  const kernelKey = inputsHash(await kernelInputs(deps, paths, distro));
  const rootfsKey = inputsHash(rootfsInputs(distro.suite));
  const imageKey = inputsHash(imageInputs(kernelKey, rootfsKey));
  const mk = async (kind: ArtifactKind, key: string): Promise<Artifact> => {
    const dir = join(paths.cache, `${kind}-${key}`);
    return { kind, key, dir, cached: await deps.fs.exists(join(dir, MANIFEST)), distro };
  };
  return { kernel: await mk("kernel", kernelKey), rootfs: await mk("rootfs", rootfsKey), image: await mk("image", imageKey) };
}

async function readManifest<T>(deps: LabDeps, dir: string): Promise<T> {
  return JSON.parse(await deps.fs.readText(join(dir, MANIFEST))) as T;
}

/** Unmount anything left mounted below `dir` (an interrupted debootstrap leaves proc/sys there), deepest first. */
async function unmountBelow(deps: LabDeps, dir: string): Promise<void> {
  const mounts = await deps.fs.readText("/proc/mounts").catch(() => "");
  const points = mounts
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .map((p) => p.replace(/\\040/g, " "))
    .filter((p) => p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await deps.runner.run("umount", ["-l", p]);
}

async function freshTmp(deps: LabDeps, dir: string): Promise<string> {
  const tmp = `${dir}.tmp`;
  await unmountBelow(deps, tmp);
  await deps.fs.remove(tmp);
  await deps.fs.mkdirp(tmp);
  return tmp;
}

async function finish(deps: LabDeps, tmp: string, dir: string, manifest: unknown): Promise<void> {
  await deps.fs.writeText(join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await deps.fs.remove(dir);
  await deps.fs.rename(tmp, dir);
}

export type Progress = (line: string) => void;

// ---------------------------------------------------------------- kernel

interface KernelManifest {
  release: string;
  imageDeb: string;
  headersDeb: string;
}

function kernelOutputs(dir: string, m: KernelManifest): KernelOutputs {
  return {
    dir,
    bzImage: join(dir, "bzImage"),
    vmlinux: join(dir, "vmlinux"),
    release: m.release,
    imageDeb: join(dir, m.imageDeb),
    headersDeb: join(dir, m.headersDeb),
  };
}

export async function buildKernel(
  deps: LabDeps,
  paths: LabPaths,
  a: Artifact,
  opts: { jobs: number; progress?: Progress },
): Promise<KernelOutputs> {
  if (a.cached) return kernelOutputs(a.dir, await readManifest<KernelManifest>(deps, a.dir));
  const say = opts.progress ?? (() => {});
  const inputs = await kernelInputs(deps, paths, a.distro);
  const tmp = await freshTmp(deps, a.dir);
  const log = join(tmp, "build.log");
  const src = join(tmp, "src");
  const build = join(tmp, "build");
  await deps.fs.mkdirp(src);
  say(`unpacking ${a.distro.tarball}`);
  await mustRun(deps, "tar", ["-xf", a.distro.tarball, "-C", src], { step: "kernel: unpack source", log, nice: true });
  const tree = join(src, (await deps.fs.list(src)).find((n) => n.startsWith("linux-source")) ?? a.distro.kernelSource);
  say("configuring (x86_64_defconfig + kvm_guest.config + templates/lab/kgdb.config)");
  const make = (args: string[], step: string, nice = false) =>
    mustRun(deps, "make", ["-C", tree, `O=${build}`, ...args], { step, log, nice });
  await make(["x86_64_defconfig"], "kernel: configure");
  await make(["kvm_guest.config"], "kernel: configure");
  await mustRun(
    deps,
    join(tree, "scripts/kconfig/merge_config.sh"),
    ["-m", "-O", build, join(build, ".config"), join(paths.templates, KERNEL_FRAGMENT)],
    {
      step: "kernel: configure",
      log,
    },
  );
  await make(["olddefconfig"], "kernel: configure");
  const unmet = unmetAssignments(parseKconfig(inputs.fragment), parseKconfig(await deps.fs.readText(join(build, ".config"))));
  if (unmet.length > 0) throw netdbgError("E610", { missing: unmet.join(", ") });
  say(`compiling with -j${opts.jobs} (about 5 min on 2 cores), log: ${log}`);
  await make([`-j${opts.jobs}`, "bindeb-pkg"], "kernel: compile and package", true);
  const release = (await deps.fs.readText(join(build, "include/config/kernel.release"))).trim();
  const debs = [
    ...(await deps.fs.list(tmp)).map((n) => join(tmp, n)),
    ...(await deps.fs.list(src)).map((n) => join(src, n)),
  ].filter((p) => p.endsWith(".deb"));
  const imageDeb = debs.find((p) => /\/linux-image-[^/]*_[^/]*\.deb$/.test(p) && !p.includes("-dbg_"));
  const headersDeb = debs.find((p) => /\/linux-headers-[^/]*_[^/]*\.deb$/.test(p));
  if (!imageDeb || !headersDeb) {
    throw netdbgError("E602", {
      step: "kernel: package",
      command: "make bindeb-pkg",
      detail: "produced no linux-image/linux-headers .deb",
      log,
    });
  }
  const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);
  for (const [from, to] of [
    [join(build, "arch/x86/boot/bzImage"), "bzImage"],
    [join(build, "vmlinux"), "vmlinux"],
    [join(build, ".config"), "config"],
    [join(build, "System.map"), "System.map"],
    [imageDeb, base(imageDeb)],
    [headersDeb, base(headersDeb)],
  ] as const) {
    // bindeb-pkg writes the .debs next to the build tree, i.e. already where they belong
    if (from !== join(tmp, to)) await mustRun(deps, "cp", [from, join(tmp, to)], { step: "kernel: collect" });
  }
  say("removing the build tree");
  await deps.fs.remove(src);
  await deps.fs.remove(build);
  for (const d of debs)
    if (d.startsWith(`${tmp}/`) && !d.slice(tmp.length + 1).includes("/")) await keepOnly(deps, d, [imageDeb, headersDeb]);
  const manifest: KernelManifest & { inputs: unknown } = {
    release,
    imageDeb: base(imageDeb),
    headersDeb: base(headersDeb),
    inputs: { ...inputs, fragment: KERNEL_FRAGMENT },
  };
  await finish(deps, tmp, a.dir, manifest);
  return kernelOutputs(a.dir, manifest);
}

async function keepOnly(deps: LabDeps, file: string, keep: string[]): Promise<void> {
  if (!keep.includes(file)) await deps.fs.remove(file);
}

// ---------------------------------------------------------------- rootfs

interface RootfsManifest {
  stockRelease: string;
  mirror: string;
}

function rootfsOutputs(dir: string, m: RootfsManifest): RootfsOutputs {
  return {
    dir,
    tree: join(dir, "tree"),
    identityFile: join(dir, "id_ed25519"),
    hostKeyPub: join(dir, "ssh_host_ed25519_key.pub"),
    stockKernel: join(dir, "stock-vmlinuz"),
    stockInitrd: join(dir, "stock-initrd.img"),
    stockRelease: m.stockRelease,
  };
}

/** The mirror of the host's apt sources that serves the suite. */
export async function hostMirror(deps: LabDeps, suite: string): Promise<string> {
  const files: { path: string; text: string }[] = [];
  for (const p of ["/etc/apt/sources.list"])
    if (await deps.fs.exists(p)) files.push({ path: p, text: await deps.fs.readText(p) });
  const d = "/etc/apt/sources.list.d";
  for (const n of await deps.fs.list(d)) {
    if (n.endsWith(".list") || n.endsWith(".sources"))
      files.push({ path: `${d}/${n}`, text: await deps.fs.readText(`${d}/${n}`) });
  }
  const mirror = pickMirror(parseAptSources(files), suite);
  if (!mirror) throw netdbgError("E600", { reason: `no apt source for '${suite} main' in /etc/apt/sources.list(.d)` });
  return mirror;
}

export async function buildRootfs(deps: LabDeps, a: Artifact, opts: { progress?: Progress }): Promise<RootfsOutputs> {
  if (a.cached) return rootfsOutputs(a.dir, await readManifest<RootfsManifest>(deps, a.dir));
  const say = opts.progress ?? (() => {});
  const suite = a.distro.suite;
  const mirror = await hostMirror(deps, suite);
  const tmp = await freshTmp(deps, a.dir);
  const log = join(tmp, "build.log");
  const tree = join(tmp, "tree");
  say(`debootstrap ${suite} from the host's apt mirror (about 2–3 min), log: ${log}`);
  await mustRun(deps, "debootstrap", ["--variant=minbase", `--include=${ROOTFS_PACKAGES.join(",")}`, suite, tree, mirror], {
    step: "rootfs: debootstrap",
    log,
    nice: true,
  });
  await unmountBelow(deps, tree);
  say("configuring: hostname, DHCP on eth0, sshd (root by key only), sysrq");
  for (const [p, content] of Object.entries(ROOTFS_FILES)) await deps.fs.writeText(join(tree, p), content);
  await mustRun(deps, "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "netdbg-lab", "-f", join(tmp, "id_ed25519")], {
    step: "rootfs: lab key",
  });
  await deps.fs.mkdirp(join(tree, "root/.ssh"));
  await mustRun(deps, "chmod", ["700", join(tree, "root/.ssh")], { step: "rootfs: lab key" });
  await deps.fs.writeText(join(tree, "root/.ssh/authorized_keys"), await deps.fs.readText(join(tmp, "id_ed25519.pub")), 0o600);
  await mustRun(deps, "cp", [join(tree, "etc/ssh/ssh_host_ed25519_key.pub"), join(tmp, "ssh_host_ed25519_key.pub")], {
    step: "rootfs: host key",
  });
  const boot = await deps.fs.list(join(tree, "boot"));
  const vmlinuz = boot.filter((n) => n.startsWith("vmlinuz-")).sort()[0];
  if (!vmlinuz || !boot.includes(`initrd.img-${vmlinuz.slice(8)}`)) {
    throw netdbgError("E602", {
      step: "rootfs: stock kernel",
      command: "debootstrap",
      detail: "left no /boot/vmlinuz-* with its initrd",
      log,
    });
  }
  const stockRelease = vmlinuz.slice("vmlinuz-".length);
  await mustRun(deps, "cp", [join(tree, "boot", vmlinuz), join(tmp, "stock-vmlinuz")], { step: "rootfs: stock kernel" });
  await mustRun(deps, "cp", [join(tree, "boot", `initrd.img-${stockRelease}`), join(tmp, "stock-initrd.img")], {
    step: "rootfs: stock kernel",
  });
  const manifest = { stockRelease, mirror, inputs: rootfsInputs(suite) };
  await finish(deps, tmp, a.dir, manifest);
  return rootfsOutputs(a.dir, manifest);
}

// ---------------------------------------------------------------- image

export async function buildImage(
  deps: LabDeps,
  a: Artifact,
  kernel: KernelOutputs,
  rootfs: RootfsOutputs,
  opts: { progress?: Progress },
): Promise<ImageOutputs> {
  const out = { dir: a.dir, disk: join(a.dir, "disk.img") };
  if (a.cached) return out;
  const say = opts.progress ?? (() => {});
  const tmp = await freshTmp(deps, a.dir);
  const log = join(tmp, "build.log");
  const tree = join(tmp, "tree");
  say("copying the root file system");
  await mustRun(deps, "cp", ["-a", "--reflink=auto", rootfs.tree, tree], { step: "image: copy rootfs", log, nice: true });
  say(`adding kernel ${kernel.release} with its headers (/lib/modules/${kernel.release}/build)`);
  // Not `dpkg-deb -x`: its /lib/modules would replace bookworm's merged-/usr symlink /lib -> usr/lib with a
  // real directory, and the guest would find no init. tar --keep-directory-symlink follows it instead.
  const unpack = 'dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink -C "$2"';
  await mustRun(deps, "sh", ["-c", unpack, "sh", kernel.imageDeb, tree], { step: "image: kernel package", log });
  await mustRun(deps, "sh", ["-c", unpack, "sh", kernel.headersDeb, tree], { step: "image: headers package", log });
  if (!(await deps.fs.exists(join(tree, "usr/lib/modules", kernel.release)))) {
    throw netdbgError("E602", {
      step: "image: kernel package",
      command: "tar -x",
      detail: `left no /usr/lib/modules/${kernel.release}`,
      log,
    });
  }
  await mustRun(deps, "depmod", ["-b", tree, kernel.release], { step: "image: depmod", log });
  say(`mkfs.ext4 -d (${DISK_SIZE}, sparse)`);
  await mustRun(deps, "mkfs.ext4", ["-q", "-F", "-L", "root", "-d", tree, join(tmp, "disk.img"), DISK_SIZE], {
    step: "image: mkfs.ext4",
    log,
    nice: true,
  });
  await deps.fs.remove(tree);
  await finish(deps, tmp, a.dir, {
    kernelRelease: kernel.release,
    stockRelease: rootfs.stockRelease,
    inputs: imageInputs(kernel.dir, rootfs.dir),
  });
  return out;
}

/** Finished artifact directories in the cache that the current inputs no longer name (left by older inputs). */
export async function staleArtifacts(deps: LabDeps, paths: LabPaths, plan: Record<ArtifactKind, Artifact>): Promise<string[]> {
  const current = new Set(Object.values(plan).map((a) => a.dir.slice(a.dir.lastIndexOf("/") + 1)));
  return (await deps.fs.list(paths.cache))
    .filter((n) => /^(kernel|rootfs|image)-[0-9a-f]{16}$/.test(n) && !current.has(n))
    .map((n) => join(paths.cache, n));
}
