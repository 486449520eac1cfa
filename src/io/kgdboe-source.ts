/**
 * The kgdboe source on this host, for the Linux driver: a local directory (walked, `.git` read without running
 * git), a tarball, a git URL, or netdbg's own bundled module (assets/kgdboe-compat); the host-side clone when
 * the target cannot fetch; the --persist templates (templates/linux).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative, sep } from "node:path";
import { netdbgError } from "../core/error.js";
import type { KgdboeSource, SourceFile } from "../core/kgdboe-source.js";
import { loadExeca } from "./command-runner.js";

const MAX_SOURCE_BYTES = 32 * 1024 * 1024;

/**
 * netdbg's own kgdboe-compatible module (assets/kgdboe-compat, shipped in the package): kgdboe's parameters
 * and log lines, GDB remote protocol over UDP. The lab and the demo build it where upstream cannot be fetched.
 */
export const BUNDLED_KGDBOE_SOURCE = new URL("../../assets/kgdboe-compat", import.meta.url).pathname;

export function loadTemplates(): { unit: string; env: string; loader: string } {
  const d = new URL("../../templates/linux/", import.meta.url).pathname;
  return {
    unit: readFileSync(join(d, "netdbg-kgdboe.service"), "utf8"),
    env: readFileSync(join(d, "kgdboe.env"), "utf8"),
    loader: readFileSync(join(d, "kgdboe-load.sh"), "utf8"),
  };
}

async function readTree(dir: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  let total = 0;
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name === ".git" || e.name.endsWith(".ko") || e.name.endsWith(".o")) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const content = await readFile(p);
        total += content.length;
        if (total > MAX_SOURCE_BYTES)
          throw netdbgError("E311", { source: dir, reason: `it is larger than ${MAX_SOURCE_BYTES >> 20} MiB` });
        const mode = (await stat(p)).mode & 0o777;
        out.push({ path: relative(dir, p).split(sep).join("/"), content, mode });
      }
    }
  }
  await walk(dir);
  return out;
}

/** The commit of a local checkout, read from .git without running git (HEAD → ref → packed-refs). */
function gitCommitOf(dir: string): string | undefined {
  try {
    const head = readFileSync(join(dir, ".git", "HEAD"), "utf8").trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return undefined;
    const loose = join(dir, ".git", ref);
    if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
    const packed = readFileSync(join(dir, ".git", "packed-refs"), "utf8");
    return new RegExp(`^([0-9a-f]{40}) ${ref.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m").exec(packed)?.[1];
  } catch {
    return undefined;
  }
}

/** --kgdboe-source: a local directory, a local tarball, a git URL (default: upstream, cloned on the target), or
 * 'bundled' (netdbg's own module, for NICs without a poll controller). */
export async function resolveKgdboeSource(spec: string | undefined, defaultGit: string): Promise<KgdboeSource> {
  const s = spec === "bundled" ? BUNDLED_KGDBOE_SOURCE : (spec ?? defaultGit);
  if (existsSync(s)) {
    const st = await stat(s);
    if (st.isDirectory()) {
      const commit = gitCommitOf(s);
      return { kind: "files", label: s, files: await readTree(s), ...(commit ? { commit } : {}) };
    }
    if (/\.(tar|tar\.gz|tgz|tar\.xz|tar\.bz2)$/.test(s))
      return { kind: "tarball", label: s, name: basename(s), content: new Uint8Array(await readFile(s)) };
    throw netdbgError("E311", { source: s, reason: "it is a file but not a .tar, .tar.gz, .tgz, .tar.xz or .tar.bz2 archive" });
  }
  if (/^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[\w.-]+@[\w.-]+:)/.test(s)) return { kind: "git", url: s };
  throw netdbgError("E311", { source: s, reason: "no such file or directory, and not a git URL" });
}

/** Host-side fallback: clone on this machine, then upload the files. */
export async function hostClone(url: string): Promise<KgdboeSource> {
  const dir = await mkdtemp(join(tmpdir(), "netdbg-kgdboe-"));
  const execa = await loadExeca();
  try {
    const r = await execa("git", ["clone", "--depth", "1", "--", url, join(dir, "src")], { reject: false, timeout: 120_000 });
    if (r.exitCode !== 0) throw new Error((r.stderr || r.message || "git clone failed").toString());
    const commit = (await execa("git", ["-C", join(dir, "src"), "rev-parse", "HEAD"])).stdout.trim();
    return { kind: "files", label: `${url} (cloned on this host)`, files: await readTree(join(dir, "src")), commit };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
