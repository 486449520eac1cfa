/**
 * A host UDP port that another process holds: a coded environment error (E105, exit 3) naming the port and,
 * on Linux, the process (found through /proc/net/udp and /proc/<pid>/fd), never "bind EADDRINUSE" as a bug.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { udpPortHolder } from "../../../src/engine/transport/port-holder.js";
import { UdpTransport } from "../../../src/engine/transport/udp.js";
import { runCliSource as runCli, stateDirWith } from "../../helpers/cli.js";

let holder: ChildProcess | undefined;
afterEach(() => {
  holder?.kill();
  holder = undefined;
});

/**
 * A python3 process bound to a free UDP port on 0.0.0.0 in the debug range 49152-65535 (an inventory refuses
 * others, and the kernel's ephemeral ports start at 32768: port 0 made the CLI case fail with E003 at random);
 * resolves with the port once bound.
 */
function holdPort(): Promise<number> {
  holder = spawn(
    "python3",
    [
      "-c",
      [
        "import random,socket,time",
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)",
        "while True:\n  p=random.randint(49152,65535)\n  try:\n    s.bind(('0.0.0.0',p)); break\n  except OSError: pass",
        "print(p, flush=True)",
        "time.sleep(60)",
      ].join("\n"),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    holder!.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    holder!.once("error", reject);
  });
}

describe("a host UDP port held by another process", () => {
  it("names the holder's pid and command", async () => {
    const port = await holdPort();
    expect(udpPortHolder(port)).toBe(`pid ${holder!.pid}, python3`);
  });

  it("is E105 (exit 3) from the transport, naming port and holder", async () => {
    const port = await holdPort();
    const err = await UdpTransport.open({ kind: "udp", host: "127.0.0.1", port: 9, localPort: port }).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E105");
    expect(isNetdbgError(err) && err.exitCode).toBe(3);
    expect((err as Error).message).toContain(`UDP port ${port}`);
    expect((err as Error).message).toContain(`pid ${holder!.pid}, python3`);
  });

  it("netdbg connect ends with E105 and exit 3, not exit 70", async () => {
    const port = await holdPort();
    const home = stateDirWith([{ name: "box", os: "linux", address: "127.0.0.1", port }]);
    const r = await runCli(["--json", "connect", "box", "--no-setup-check", "--exec", "regs"], { env: { NETDBG_HOME: home } });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "NETDBG-E105" });
  });
});
