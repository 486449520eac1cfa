/**
 * `doctor`: wall-clock seconds of `netdbg doctor --json` (the built CLI, a child process) against the built-in
 * peers on loopback — the Windows model and the Linux model, each behind a real SSH server, neither set up yet
 * (what a newcomer meets first). Median of a few runs.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLinuxPeer } from "../src/peers/linux.js";
import { startWindowsPeer } from "../src/peers/windows.js";

export const name = "doctor";

const KEY = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";

function runDoctor(bin: string, home: string): Promise<{ ms: number; code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NETDBG_HOME: join(home, "netdbg"), NO_COLOR: "1" };
    delete env.SSH_AUTH_SOCK;
    const child = spawn(process.execPath, [bin, "--json", "doctor"], { env, stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.on("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, stdout }));
  });
}

export async function run(runs = 3): Promise<Record<string, unknown>> {
  const bin = fileURLToPath(new URL("../bin/netdbg.js", import.meta.url));
  const home = mkdtempSync(join(tmpdir(), "netdbg-bench-doctor-"));
  const win = await startWindowsPeer();
  const lin = await startLinuxPeer();
  try {
    const ssh = join(home, ".ssh");
    mkdirSync(ssh, { mode: 0o700 });
    writeFileSync(join(ssh, "known_hosts"), `${win.ssh.knownHostsLine()}\n${lin.ssh.knownHostsLine()}\n`);
    writeFileSync(join(ssh, "id_win"), win.ssh.clientKey.private, { mode: 0o600 });
    writeFileSync(join(ssh, "id_linux"), lin.ssh.clientKey.private, { mode: 0o600 });
    const nd = join(home, "netdbg");
    mkdirSync(join(nd, "keys"), { recursive: true, mode: 0o700 });
    writeFileSync(join(nd, "keys", "bench-win.key"), `${KEY}\n`, { mode: 0o600 });
    writeFileSync(
      join(nd, "targets.yaml"),
      [
        "version: 1",
        "targets:",
        "  - name: bench-win",
        "    os: windows",
        "    address: 127.0.0.1",
        `    ssh: { user: ${win.user}, port: ${win.ssh.port}, identityFile: ${join(ssh, "id_win")} }`,
        "    port: 50731",
        "    transport: { hostIp: 127.0.0.1 }",
        "  - name: bench-linux",
        "    os: linux",
        "    address: 127.0.0.1",
        `    ssh: { user: ${lin.user}, port: ${lin.ssh.port}, identityFile: ${join(ssh, "id_linux")} }`,
        "    port: 50732",
        `    transport: { targetPort: ${lin.udpPort}, hostIp: 127.0.0.1 }`,
        "",
      ].join("\n"),
    );
    const times: number[] = [];
    let verdict = "?";
    for (let i = 0; i < runs; i++) {
      const r = await runDoctor(bin, home);
      times.push(r.ms);
      try {
        verdict = (JSON.parse(r.stdout) as { verdict: string }).verdict;
      } catch {
        throw new Error(`doctor printed no JSON (exit ${r.code})`);
      }
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    return {
      runs,
      targets: "bench-win (windows model), bench-linux (linux model); neither set up",
      verdict,
      seconds: Number((median / 1000).toFixed(2)),
      minSeconds: Number((times[0]! / 1000).toFixed(2)),
    };
  } finally {
    await win.close();
    await lin.close();
    rmSync(home, { recursive: true, force: true });
  }
}
