/**
 * The in-process ssh2 peer with the engine: netdbg's SSH client sends the exact powershell.exe command, the
 * script runs in real PowerShell, and the channel carries the bytes PowerShell wrote in the machine's OEM code
 * page — the same bytes→text path as OpenSSH for Windows. On a zh-CN (CP936) machine bcdedit's Chinese reaches
 * netdbg as CP936 bytes read as UTF-8: replacement characters, while element names and GUIDs (ASCII) survive.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { connectSsh } from "../../../src/io/ssh.js";
import { startWindowsPeer, type WindowsPeer } from "../../../src/peers/windows.js";
import { PROFILES } from "../../../src/peers/windows-target/profiles.js";
import { sessionRunner } from "../../../src/targets/windows/ps.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { tempDir } from "../../helpers/sshd.js";

const engine = useEngine();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(noPwsh())("in-process ssh2 peer running the scripts in real PowerShell", () => {
  it("zh-CN CP936: the scripts print ASCII-only JSON, so localized text crosses the OEM code page intact", async () => {
    const dir = tempDir("win-ssh2-pwsh");
    dirs.push(dir);
    let peer: WindowsPeer | undefined;
    const session = await (async () => {
      peer = await startWindowsPeer({ state: PROFILES["zh-CN-cp936"].state(), engine: engine() });
      return connectSsh(peer.ssh.connectOptions(dir, peer.user));
    })();
    try {
      const run = sessionRunner(session, "win");
      const r = await run.run<{ exitCode: number; output: string }>("bcdedit", { BcdArgs: ["/enum", "{current}", "/v"] });
      expect(r.exitCode).toBe(0);
      expect(r.output).toContain("{6e3c4a52-1f05-11ef-9c1b-c85b76a1b2c3}");
      expect(r.output).toMatch(/^description\s+Windows 11/m);
      // PowerShell writes CP936, which netdbg does not read: the JSON carries the characters as \uXXXX escapes
      expect(r.output).toContain("标识符");
      expect(r.output).not.toContain("\uFFFD");
      expect(peer!.engine).toBe(engine());
    } finally {
      await session.close();
      await peer?.close();
    }
  }, 60_000);
});
