/**
 * A real Ansible play (ansible-core from Debian) with the netdbg.netdbg collection: two debug hosts
 * (ansible_connection=local, each its own state directory and port range) and 32 built-in targets from
 * `netdbg demo serve` (real SSH servers and UDP peers on 127.0.0.1). netdbg is the built CLI (bin/netdbg.js).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const NETDBG = join(REPO, "bin", "netdbg.js");
const COLLECTIONS = join(REPO, "ansible", "collections");
const COUNT = 32;

interface TaskResult {
  changed: boolean;
  failed?: boolean;
  msg?: string;
  results: {
    target: string;
    os: string;
    ok: boolean;
    changed: boolean;
    port?: number;
    commands?: string[];
    error?: { code: string };
  }[];
  diff?: { before_header: string; after: string }[];
}
interface PlayOutput {
  /** Each debug host's registered result of the setup task (written by the play's `always` step). */
  task: Record<string, TaskResult>;
  /** PLAY RECAP: the setup task is the only one that may change or fail. */
  stats: Record<string, { changed: number; failed: number; ok: number }>;
}

let serve: ChildProcess | undefined;
let dir = "";
let inventory = "";
let playbook = "";
let stateRoot = "";
let served: { debugHosts: { name: string; portRange: string }[]; targets: { name: string; debugHost: string }[] };

async function play(args: string[], inv = inventory): Promise<{ code: number; out: PlayOutput; stderr: string }> {
  const results = mkdtempSync(join(dir, "results-"));
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "ansible-playbook",
      ["-i", inv, playbook, "-e", `netdbg_bin=${NETDBG}`, "-e", `state_root=${stateRoot}`, "-e", `results=${results}`, ...args],
      {
        env: {
          ...process.env,
          ANSIBLE_COLLECTIONS_PATH: COLLECTIONS,
          ANSIBLE_NOCOLOR: "1",
          ANSIBLE_LOCAL_TEMP: join(dir, "ansible-tmp"),
          ANSIBLE_PYTHON_INTERPRETER: "/usr/bin/python3",
          ANSIBLE_RETRY_FILES_ENABLED: "0",
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 300_000,
      },
      (err, out, errText) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errText }),
    );
  });
  const task: Record<string, TaskResult> = {};
  for (const f of readdirSync(results)) task[f.replace(/\.json$/, "")] = JSON.parse(readFileSync(join(results, f), "utf8"));
  const stats: PlayOutput["stats"] = {};
  for (const m of stdout.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/gm)) {
    stats[m[1] as string] = { ok: Number(m[2]), changed: Number(m[3]), failed: Number(m[4]) };
  }
  if (Object.keys(stats).length === 0)
    throw new Error(`no PLAY RECAP from ansible-playbook (exit ${code}): ${stderr.slice(-2000)} ${stdout.slice(-2000)}`);
  return { code, out: { task, stats }, stderr: `${stdout.slice(-3000)}\n${stderr.slice(-2000)}` };
}

const task = (o: PlayOutput, host: string) => o.task[host] as TaskResult;

function journals(host: string): string[] {
  const d = join(stateRoot, host, "state", "journals");
  return existsSync(d) ? readdirSync(d) : [];
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  expect(existsSync(join(REPO, "dist", "cli", "main.js")), "build netdbg first (npm run build)").toBe(true);
  dir = mkdtempSync(join(tmpdir(), "nd-play-"));
  stateRoot = join(dir, "state");
  playbook = join(dir, "play.yml");
  writeFileSync(
    playbook,
    stringify([
      {
        name: "kernel debugging on every debug host's targets",
        hosts: "debug_hosts",
        gather_facts: false,
        vars: { nd_state: "present" },
        tasks: [
          {
            block: [
              {
                name: "netdbg setup",
                "netdbg.netdbg.setup": {
                  netdbg: "{{ netdbg_bin }}",
                  inventory: "{{ inventory_file }}",
                  debug_host: "{{ inventory_hostname }}",
                  state_dir: "{{ state_root }}/{{ inventory_hostname }}",
                  state: "{{ nd_state }}",
                  host_firewall: false,
                  concurrency: 16,
                },
                register: "nd",
              },
            ],
            always: [
              {
                name: "keep the result for the test",
                "ansible.builtin.copy": { content: "{{ nd | to_json }}", dest: "{{ results }}/{{ inventory_hostname }}.json" },
                check_mode: false,
                diff: false,
                changed_when: false,
              },
            ],
          },
        ],
      },
    ]),
  );
  serve = spawn(
    process.execPath,
    [NETDBG, "demo", "serve", "--count", String(COUNT), "--debug-hosts", "dbg1,dbg2", "--dir", join(dir, "serve"), "--json"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
  );
  let text = "";
  served = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo serve did not start: ${text}`)), 120_000);
    serve?.stdout?.on("data", (d: Buffer) => {
      text += d.toString();
      try {
        const v = JSON.parse(text);
        clearTimeout(timer);
        resolve(v);
      } catch {
        // not whole yet
      }
    });
    serve?.on("exit", (code) => reject(new Error(`demo serve exited ${code}: ${text}`)));
  });
  inventory = join(dir, "serve", "inventory.yml");
}, 180_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill("SIGINT");
    await new Promise((r) => serve?.once("exit", r));
  }
});

describe(`a play over 2 debug hosts and ${COUNT} built-in targets`, () => {
  it("demo serve spread the targets over both debug hosts, each with Windows and Linux targets", () => {
    expect(served.targets).toHaveLength(COUNT);
    for (const h of ["dbg1", "dbg2"]) {
      const mine = served.targets.filter((t) => t.debugHost === h);
      expect(mine).toHaveLength(COUNT / 2);
      expect(mine.filter((t) => t.name.startsWith("win"))).toHaveLength(COUNT / 4);
    }
  });

  it("--check: would change every target, writes nothing; --diff shows the commands", async () => {
    const r = await play(["--check", "--diff"]);
    expect(r.code, r.stderr).toBe(0);
    for (const h of ["dbg1", "dbg2"]) {
      const t = task(r.out, h);
      expect(t.changed).toBe(true);
      expect(t.results).toHaveLength(COUNT / 2);
      expect(t.results.every((x) => x.changed && x.ok)).toBe(true);
      expect(journals(h)).toEqual([]);
      expect(existsSync(join(stateRoot, h, "state", "ansible-overlay.yaml"))).toBe(false);
      const win = t.diff?.find((d) => d.before_header.startsWith("win"));
      expect(win?.after).toContain("bcdedit");
      const lin = t.diff?.find((d) => d.before_header.startsWith("lin"));
      expect(lin?.after).toContain("insmod");
    }
  }, 300_000);

  it("run 1 changes every target; ports are distinct, each in its debug host's range", async () => {
    const r = await play([]);
    expect(r.code, r.stderr).toBe(0);
    const ports: number[] = [];
    for (const d of served.debugHosts) {
      const t = task(r.out, d.name);
      expect(t.changed).toBe(true);
      expect(t.results.every((x) => x.ok && x.changed)).toBe(true);
      expect(r.out.stats[d.name]?.changed).toBe(1);
      expect(r.out.stats[d.name]?.failed).toBe(0);
      const [from, to] = d.portRange.split("-").map(Number) as [number, number];
      for (const x of t.results) {
        expect(x.port).toBeGreaterThanOrEqual(from);
        expect(x.port).toBeLessThanOrEqual(to);
        ports.push(x.port as number);
      }
      expect(journals(d.name)).toHaveLength(COUNT / 2);
    }
    expect(new Set(ports).size).toBe(COUNT);
    // no stored KDNET key in Ansible's output or in any target's result
    const keys = ["dbg1", "dbg2"].flatMap((h) => {
      const k = join(stateRoot, h, "keys");
      return readdirSync(k).map((f) => readFileSync(join(k, f), "utf8").trim());
    });
    expect(keys).toHaveLength(COUNT / 2);
    const everything = JSON.stringify(r.out) + r.stderr;
    for (const key of keys) {
      expect(everything).not.toContain(key);
      expect(everything).not.toContain(key.split(".")[0]);
    }
  }, 300_000);

  it("run 2 changes nothing", async () => {
    const r = await play([]);
    expect(r.code, r.stderr).toBe(0);
    for (const h of ["dbg1", "dbg2"]) {
      expect(task(r.out, h).changed).toBe(false);
      expect(r.out.stats[h]?.changed).toBe(0);
    }
  }, 300_000);

  it("state: absent undoes everything and empties every journal", async () => {
    const r = await play(["-e", "nd_state=absent"]);
    expect(r.code, r.stderr).toBe(0);
    for (const h of ["dbg1", "dbg2"]) {
      expect(task(r.out, h).changed).toBe(true);
      expect(journals(h)).toEqual([]);
    }
  }, 300_000);

  it("a target whose SSH is down fails alone, with its code; the others are set up", async () => {
    const inv = parse(readFileSync(inventory, "utf8")) as {
      all: { children: { netdbg_demo: { children: { demo_linux: { hosts: Record<string, Record<string, unknown>> } } } } };
    };
    const linux = inv.all.children.netdbg_demo.children.demo_linux.hosts;
    const model = Object.values(linux)[0] as Record<string, unknown>;
    linux.dead01 = { ...model, ansible_port: await closedPort(), netdbg_debug_host: "dbg1" };
    const broken = join(dir, "inventory-dead.yml");
    writeFileSync(broken, stringify(inv));
    const r = await play([], broken);
    expect(r.code).not.toBe(0);
    const t = task(r.out, "dbg1");
    expect(t.failed).toBe(true);
    const dead = t.results.find((x) => x.target === "dead01");
    expect(dead?.ok).toBe(false);
    expect(dead?.error?.code).toMatch(/^NETDBG-E\d{3}$/);
    expect(t.msg).toContain(`dead01:`);
    expect(t.msg).toContain(dead?.error?.code);
    expect(t.results.filter((x) => x.target !== "dead01").every((x) => x.ok && x.changed)).toBe(true);
    expect(task(r.out, "dbg2").changed).toBe(true);
    expect(task(r.out, "dbg2").failed ?? false).toBe(false);
  }, 300_000);
});
