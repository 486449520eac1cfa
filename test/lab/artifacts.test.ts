/** The kernel artifact's recipe, step by step, against a command-table runner and an in-memory file system. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CommandResult } from "../../src/core/interfaces.js";
import { buildKernel, planArtifacts, staleArtifacts } from "../../src/lab/artifacts.js";
import type { LabDeps, LabFs, LabPaths } from "../../src/lab/ports.js";

const fragment = readFileSync(new URL("../../templates/lab/kgdb.config", import.meta.url), "utf8");
const paths: LabPaths = { cache: "/c", state: "/s", templates: "/t", node: "/usr/bin/node" };

function memFs(initial: Record<string, string>): LabFs & { files: Map<string, string> } {
  const files = new Map(Object.entries(initial));
  const under = (p: string) => [...files.keys()].filter((k) => k.startsWith(`${p}/`));
  return {
    files,
    readText: async (p) => {
      const v = files.get(p);
      if (v === undefined) throw new Error(`ENOENT ${p}`);
      return v;
    },
    writeText: async (p, c) => {
      files.set(p, c);
    },
    exists: async (p) => files.has(p) || under(p).length > 0,
    mkdirp: async () => {},
    remove: async (p) => {
      files.delete(p);
      for (const k of under(p)) files.delete(k);
    },
    rename: async (a, b) => {
      for (const k of under(a)) {
        files.set(b + k.slice(a.length), files.get(k)!);
        files.delete(k);
      }
    },
    list: async (p) => [...new Set(under(p).map((k) => k.slice(p.length + 1).split("/")[0]!))],
  };
}

/** Unwraps `sh -c 'exec "$@" >>log'` and `nice -n 10` so the table sees the real program. */
function program(file: string, args: readonly string[]): string[] {
  let argv = [file, ...args];
  if (file === "sh" && args[0] === "-c" && args[1]?.startsWith('exec "$@"')) argv = args.slice(3);
  if (argv[0] === "nice") argv = argv.slice(3);
  return argv;
}

function kernelDeps(opts: { failCompile?: boolean } = {}) {
  const fs = memFs({
    "/t/kgdb.config": fragment,
    "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n',
  });
  const calls: string[] = [];
  const tmp = (p: string) => p.replace(/\/build$/, "");
  const deps: LabDeps = {
    fs,
    clock: { now: () => new Date(0), sleep: async () => {} },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    runner: {
      run: async (file, args): Promise<CommandResult> => {
        const argv = program(file, args);
        calls.push(argv.join(" "));
        const ok = { stdout: "", stderr: "", exitCode: 0 };
        if (argv[0] === "dpkg-query")
          return { ...ok, stdout: argv.some((a) => a.includes("Status-Abbrev")) ? "ii " : "6.1.192-2" };
        if (argv[0] === "tar") fs.files.set(`${argv[3]}/linux-source-6.1/Makefile`, "");
        const objtree = argv.find((a) => a.startsWith("O="))?.slice(2) ?? "";
        if (argv[0] === "make" && argv.includes("olddefconfig")) fs.files.set(`${objtree}/.config`, fragment);
        if (argv[0] === "make" && argv.includes("bindeb-pkg")) {
          if (opts.failCompile) {
            fs.files.set(`${tmp(objtree)}/build.log`, "  CC      kernel/debug/gdbstub.o\nmake: *** [Makefile:1] Error 2\n");
            return { ...ok, exitCode: 2 };
          }
          const build = objtree;
          fs.files.set(`${build}/include/config/kernel.release`, "6.1.192-kgdb\n");
          for (const f of ["arch/x86/boot/bzImage", "vmlinux", "System.map"]) fs.files.set(`${build}/${f}`, f);
          for (const d of [
            "linux-image-6.1.192-kgdb_1_amd64.deb",
            "linux-headers-6.1.192-kgdb_1_amd64.deb",
            "linux-libc-dev_1_amd64.deb",
          ]) {
            fs.files.set(`${tmp(build)}/${d}`, d);
          }
        }
        if (argv[0] === "cp") {
          if (argv[1] === argv[2]) return { ...ok, exitCode: 1, stderr: `cp: '${argv[1]}' and '${argv[2]}' are the same file\n` };
          fs.files.set(argv[2]!, fs.files.get(argv[1]!) ?? "");
        }
        return ok;
      },
    },
  };
  return { deps, fs, calls };
}

describe("kernel artifact", () => {
  it("configures from defconfig + kvm_guest + the fragment, builds niced debs, keeps only the artifacts", async () => {
    const { deps, fs, calls } = kernelDeps();
    const plan = await planArtifacts(deps, paths);
    expect(plan.kernel.cached).toBe(false);
    const k = await buildKernel(deps, paths, plan.kernel, { jobs: 2 });
    const dir = plan.kernel.dir;
    const tmp = `${dir}.tmp`;
    expect(calls.filter((c) => !c.startsWith("dpkg-query") && !c.startsWith("cp "))).toEqual([
      `tar -xf /usr/src/linux-source-6.1.tar.xz -C ${tmp}/src`,
      `make -C ${tmp}/src/linux-source-6.1 O=${tmp}/build x86_64_defconfig`,
      `make -C ${tmp}/src/linux-source-6.1 O=${tmp}/build kvm_guest.config`,
      `${tmp}/src/linux-source-6.1/scripts/kconfig/merge_config.sh -m -O ${tmp}/build ${tmp}/build/.config /t/kgdb.config`,
      `make -C ${tmp}/src/linux-source-6.1 O=${tmp}/build olddefconfig`,
      `make -C ${tmp}/src/linux-source-6.1 O=${tmp}/build -j2 bindeb-pkg`,
    ]);
    expect(k).toEqual({
      dir,
      bzImage: `${dir}/bzImage`,
      vmlinux: `${dir}/vmlinux`,
      release: "6.1.192-kgdb",
      imageDeb: `${dir}/linux-image-6.1.192-kgdb_1_amd64.deb`,
      headersDeb: `${dir}/linux-headers-6.1.192-kgdb_1_amd64.deb`,
    });
    const kept = [...fs.files.keys()].filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1));
    // build.log is written by the shell redirect (not by this fake); the build and source trees are gone
    expect(kept.sort()).toEqual([
      "System.map",
      "bzImage",
      "config",
      "linux-headers-6.1.192-kgdb_1_amd64.deb",
      "linux-image-6.1.192-kgdb_1_amd64.deb",
      "manifest.json",
      "vmlinux",
    ]);
    expect([...fs.files.keys()].some((f) => f.startsWith(tmp))).toBe(false);

    // now cached: nothing runs, same outputs
    const again = await planArtifacts(deps, paths);
    expect(again.kernel.cached).toBe(true);
    calls.length = 0;
    expect(await buildKernel(deps, paths, again.kernel, { jobs: 2 })).toEqual(k);
    expect(calls.filter((c) => !c.startsWith("dpkg-query"))).toEqual([]);
  });

  it("a failing compile is NETDBG-E602 with the log's tail, and nothing looks cached", async () => {
    const { deps } = kernelDeps({ failCompile: true });
    const plan = await planArtifacts(deps, paths);
    const err = await buildKernel(deps, paths, plan.kernel, { jobs: 2 }).catch((e) => e);
    expect(err.code).toBe("NETDBG-E602");
    expect(err.message).toContain("kernel: compile and package");
    expect(err.message).toContain("Error 2");
    expect((await planArtifacts(deps, paths)).kernel.cached).toBe(false);
  });

  it("lists finished artifacts of older inputs as stale, never the current ones or unfinished .tmp dirs", async () => {
    const { deps, fs } = kernelDeps();
    const plan = await planArtifacts(deps, paths);
    fs.files.set(`${plan.kernel.dir}/manifest.json`, "{}");
    fs.files.set("/c/kernel-0123456789abcdef/manifest.json", "{}");
    fs.files.set("/c/image-0123456789abcdef.tmp/x", "");
    expect(await staleArtifacts(deps, paths, plan)).toEqual(["/c/kernel-0123456789abcdef"]);
  });
});
