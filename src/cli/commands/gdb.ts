import { rmSync } from "node:fs";
import type { Command } from "commander";
import { isNetdbgError, netdbgError } from "../../core/error.js";
import { shCommand } from "../../core/quote.js";
import { parseGdbRequest } from "../connect-options.js";
import type { Context } from "../context.js";

/** The flags as commander gives them. */
interface GdbFlags {
  bridge?: boolean;
  listen?: string;
  endpoint?: string;
  port?: string;
  vmlinux?: string;
  timeout?: string;
}

/** The gdb command line for a remote spec (gdb's `target remote` syntax, gdbsupport/netstuff.cc). */
export function gdbArgv(vmlinux: string | undefined, remote: string): string[] {
  return ["gdb", vmlinux ?? "vmlinux", "-ex", "set remotetimeout 10", "-ex", `target remote ${remote}`];
}

/** `netdbg gdb <target> [--bridge]`: print the exact gdb command line, or serve a reliable local TCP bridge. */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("gdb")
    .description("print the gdb command line for a linux target; --bridge serves a reliable local TCP port for stock gdb")
    .argument("<target>", "inventory target name (linux)")
    .option(
      "--bridge",
      "relay a local TCP port to the target through netdbg's reliability layer (the default when gdb alone cannot reach the target)",
    )
    .option("--no-bridge", "only print the gdb command line, even where gdb alone cannot reach the target")
    .option(
      "--listen <port|unix:path>",
      "where the bridge listens: a TCP port on 127.0.0.1 (default: a free one; any local user can connect to it) or unix:PATH, a Unix socket only you can use (mode 0600)",
    )
    .option("--endpoint <spec>", "the target's RSP endpoint: udp:HOST:PORT[@LOCALPORT] or tcp:HOST:PORT")
    .option("--port <port>", "bind this host UDP port towards the target")
    .option(
      "--vmlinux <file>",
      "the target kernel's vmlinux (put on the gdb command line; default: the target's transport.vmlinux)",
    )
    .option("--timeout <seconds>", "give up on an unanswered request after about this long")
    .action(async (name: string, flags: GdbFlags) => {
      // parsed once, before anything runs: a bad --listen or --timeout is an error with --no-bridge too
      const opts = parseGdbRequest(flags);
      const c = ctx();
      const { RspBridge, RspClient } = await import("../../engine/rsp/index.js");
      const { formatEndpoint, openTransport } = await import("../../engine/transport/index.js");
      const { clientOptions, reachable, resolveEndpoint } = await import("../debugger/linux-session.js");
      const target = await c.inventory.get(name);
      if (target.os !== "linux") {
        throw netdbgError("E003", {
          option: "<target>",
          value: name,
          reason: "it is a windows target",
          fix: `Use 'netdbg windbg ${name}' for KDNET targets.`,
        });
      }
      const endpoint = resolveEndpoint(target, opts);
      const vmlinux = opts.vmlinux ?? target.transport?.vmlinux;
      // gdb picks its own UDP source port: a target that answers only one host port is out of its reach
      const gdbCannot = endpoint.localPort !== undefined;
      const useBridge = opts.bridge ?? gdbCannot;
      if (!useBridge) {
        if (gdbCannot) {
          c.log.warn(
            `the target only answers from host port ${endpoint.localPort}, which gdb cannot bind: run 'netdbg gdb ${name}' without --no-bridge`,
          );
        }
        const spec = `${endpoint.kind}:${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
        const argv = gdbArgv(vmlinux, spec);
        if (c.opts.json) c.json({ target: name, endpoint: formatEndpoint(endpoint), argv, command: shCommand(argv) });
        else {
          c.out(shCommand(argv));
          if (!vmlinux)
            c.log.info("no vmlinux known for this target: replace 'vmlinux' (or give --vmlinux, or set transport.vmlinux)");
          if (endpoint.kind === "udp") {
            c.log.info(
              "gdb over UDP has no retransmission ('may be unreliable'): add --bridge to go through netdbg's reliability layer.",
            );
          }
        }
        return;
      }
      if (opts.bridge === undefined && gdbCannot) {
        c.log.info(`the target only answers from host port ${endpoint.localPort}, which gdb cannot bind: serving a bridge`);
      }
      const socketPath = "socket" in opts.listen ? opts.listen.socket : undefined;
      const listen = "port" in opts.listen ? opts.listen.port : 0;
      const to = await reachable(endpoint);
      let transport: Awaited<ReturnType<typeof openTransport>>;
      try {
        transport = await openTransport(to);
      } catch (e) {
        if (isNetdbgError(e)) throw e; // a taken host port (E105) says more than "could not open"
        throw netdbgError("E401", { endpoint: formatEndpoint(endpoint), reason: (e as Error).message }, { cause: e });
      }
      const client = new RspClient(transport, clientOptions(opts, { onConsole: (t) => c.log.debug(`target: ${t.trimEnd()}`) }));
      const bridge = new RspBridge(client, { log: (l) => c.log.info(l) });
      let at: string;
      try {
        at = socketPath !== undefined ? await bridge.listenUnix(socketPath) : `127.0.0.1:${await bridge.listen(listen)}`;
      } catch (e) {
        await client.close();
        const where = socketPath !== undefined ? `unix:${socketPath}` : `tcp:127.0.0.1:${listen}`;
        throw netdbgError("E401", { endpoint: where, reason: (e as Error).message }, { cause: e });
      }
      const argv = gdbArgv(vmlinux, at);
      if (c.opts.json) c.json({ target: name, endpoint: formatEndpoint(endpoint), bridge: at, argv, command: shCommand(argv) });
      else {
        c.out(`bridge: ${at} -> ${formatEndpoint(endpoint)} (Ctrl-C to stop)`);
        if (socketPath === undefined)
          c.log.info("any local user can connect to this TCP port; --listen unix:PATH gives a socket only you can use");
        c.out(shCommand(argv));
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        transport.onClose(stop);
      });
      await bridge.close();
      if (socketPath !== undefined) rmSync(socketPath, { force: true });
      c.log.info(
        `bridge closed: ${bridge.stats.packets} packets, ${client.stats.retransmits} retransmits, ${client.stats.naksSent} naks, ${client.stats.duplicates} duplicates`,
      );
      await client.close();
    });
}
