/**
 * What the command modules load only when their command runs. The modules in this folder declare the CLI
 * (options, help) and must stay cheap to import: `netdbg --help`, `--version` and every usage error load all of
 * them, so a dependency with a real start-up cost (ssh2, zod, execa, listr2, inquirer, node-powershell) is
 * imported inside the action that needs it (bench/startup.ts measures it; test/cli/startup.test.ts keeps it so).
 */
import type { Target } from "../../core/inventory.js";
import type { ConnectRequest } from "../connect-options.js";
import type { Context } from "../context.js";

/** `netdbg connect` for a target's OS: KDNET + KD (Windows), the GDB remote protocol over UDP (Linux). */
export async function connectFor(
  os: Target["os"],
): Promise<(ctx: Context, target: Target, req: ConnectRequest) => Promise<void>> {
  if (os === "windows") return (await import("../debugger/windows-connect.js")).attachWindows;
  const { attachLinux } = await import("../debugger/linux-connect.js");
  return (ctx, target, req) => attachLinux(ctx, target, req);
}
