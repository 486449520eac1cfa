import type { Command } from "commander";
import type { Context } from "../context.js";
import { notAvailable } from "./not-available.js";

export function register(program: Command, _ctx: () => Context): void {
  program
    .command("connect")
    .description("(connect: not available yet)")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => notAvailable("'netdbg connect'"));
}
