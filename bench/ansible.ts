/**
 * The netdbg.netdbg collection at fleet size: one Ansible play (ansible-playbook, one debug host with
 * ansible_connection=local) sets up 32 built-in targets from `netdbg demo serve` in one fleet call, against
 * 32 runs of `netdbg setup <target>` one after another (a fresh process each, as a loop over targets would),
 * on the same targets after a teardown. Reported: both wall times and the ratio play ÷ 32 single runs, with
 * the machine load. Needs ansible-core and a built CLI (npm run bench builds it).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";

export const name = "ansible";

const COUNT = 32;
const REPO = fileURLToPath(new URL("../", import.meta.url));
const NETDBG = join(REPO, "bin", "netdbg.js");
const exec = promisify(execFile);

async function serve(dir: string): Promise<{ child: ChildProcess; inventory: string; names: string[] }> {
  const child = spawn(
    process.execPath,
    [NETDBG, "demo", "serve", "--count", String(COUNT), "--debug-hosts", "dbg1", "--dir", dir, "--json"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let text = "";
  const v = await new Promise<{ ansibleInventory: string; targets: { name: string }[] }>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      text += d.toString();
      try {
        resolve(JSON.parse(text));
      } catch {
        // not whole yet
      }
    });
    child.on("exit", (c) => reject(new Error(`demo serve exited ${c}`)));
  });
  return { child, inventory: v.ansibleInventory, names: v.targets.map((t) => t.name) };
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), "nd-bench-ansible-"));
  const s = await serve(join(dir, "serve"));
  try {
    const playbook = join(dir, "play.yml");
    writeFileSync(
      playbook,
      stringify([
        {
          hosts: "debug_hosts",
          gather_facts: false,
          tasks: [
            {
              "netdbg.netdbg.setup": {
                netdbg: NETDBG,
                inventory: "{{ inventory_file }}",
                debug_host: "{{ inventory_hostname }}",
                state_dir: join(dir, "play-state"),
                state: "{{ nd_state | default('present') }}",
                host_firewall: false,
                concurrency: 32,
              },
            },
          ],
        },
      ]),
    );
    const env = {
      ...process.env,
      ANSIBLE_COLLECTIONS_PATH: join(REPO, "ansible", "collections"),
      ANSIBLE_PYTHON_INTERPRETER: "/usr/bin/python3",
      ANSIBLE_LOCAL_TEMP: join(dir, "ansible-tmp"),
      ANSIBLE_NOCOLOR: "1",
    };
    const load = loadavg()[0];
    let t0 = performance.now();
    await exec("ansible-playbook", ["-i", s.inventory, playbook], { env, maxBuffer: 1 << 26 });
    const playSeconds = (performance.now() - t0) / 1000;
    // the same targets, back to their first state, then one netdbg process per target
    await exec("ansible-playbook", ["-i", s.inventory, playbook, "-e", "nd_state=absent"], { env, maxBuffer: 1 << 26 }).catch(
      () => undefined,
    );
    const single = join(dir, "single-state");
    t0 = performance.now();
    for (const n of s.names) {
      await exec(
        process.execPath,
        [
          NETDBG,
          "--state-dir",
          single,
          "--ansible-inventory",
          s.inventory,
          "--debug-host",
          "dbg1",
          "setup",
          n,
          "--no-connect",
          "--no-host-firewall",
          "--json",
        ],
        {
          maxBuffer: 1 << 26,
        },
      );
    }
    const singleSeconds = (performance.now() - t0) / 1000;
    return {
      targets: COUNT,
      "play.seconds": Number(playSeconds.toFixed(2)),
      "single.seconds": Number(singleSeconds.toFixed(2)),
      ratio: Number((playSeconds / singleSeconds).toFixed(3)),
      load: Number(load?.toFixed(2)),
    };
  } finally {
    s.child.kill("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  }
}
