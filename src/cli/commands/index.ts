import type { Command } from "commander";
import type { Context } from "../context.js";
import * as completion from "./completion.js";
import * as connect from "./connect.js";
import * as demo from "./demo.js";
import * as doctor from "./doctor.js";
import * as gdb from "./gdb.js";
import * as host from "./host.js";
import * as kdnet from "./kdnet.js";
import * as keys from "./keys.js";
import * as lab from "./lab.js";
import * as setup from "./setup.js";
import * as targets from "./targets.js";
import * as teardown from "./teardown.js";
import * as windbg from "./windbg.js";

/** One module per command (or command group); each owns its file. Order = order in --help. */
export function registerCommands(program: Command, ctx: () => Context): void {
  for (const m of [demo, setup, connect, doctor, teardown, targets, keys, host, lab, gdb, windbg, kdnet, completion]) {
    m.register(program, ctx);
  }
}
