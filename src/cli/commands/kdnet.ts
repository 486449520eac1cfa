import { ANY_UDP_PORT, parsePort as parsePortIn } from "../../core/udp-port.js";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import { type KdnetKey, parseKdnetKey } from "../../core/kdnet-key.js";
import type { PokeSource } from "../../engine/kdnet/listen.js";
import type { Context } from "../context.js";
import { parseTimeoutSeconds } from "../connect-options.js";
import { table } from "../output.js";

/**
 * The key from --key-file (a file, or - for standard input), --key, or the stored key of --target. Registered
 * as a secret so it is redacted everywhere. --key puts the key in `ps` output; the others do not.
 */
async function resolveKey(
  ctx: Context,
  opts: { key?: string; keyFile?: string; target?: string },
): Promise<KdnetKey | undefined> {
  if (opts.keyFile !== undefined) {
    let text: string;
    try {
      text = opts.keyFile === "-" ? await readStdin() : await readFile(opts.keyFile, "utf8");
    } catch (e) {
      throw netdbgError("E013", { file: opts.keyFile === "-" ? "standard input" : opts.keyFile, reason: (e as Error).message });
    }
    const key = text.trim().split(/\s+/)[0] ?? "";
    ctx.secretsSeen.push(key);
    return parseKdnetKey(key);
  }
  if (opts.key !== undefined) {
    ctx.secretsSeen.push(opts.key);
    return parseKdnetKey(opts.key);
  }
  if (opts.target !== undefined) {
    const stored = await ctx.secrets.get(opts.target);
    if (stored === undefined) throw netdbgError("E009", { name: opts.target });
    ctx.secretsSeen.push(stored);
    return parseKdnetKey(stored);
  }
  return undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `kdnet` commands take any UDP port the target pokes (not only the debug range setup allocates from). */
const parsePort = (value: string): number => parsePortIn(value, "<port>", ANY_UDP_PORT);

function describeSource(s: PokeSource): string {
  const auth =
    s.authenticated === null
      ? "key not checked (no --key)"
      : s.authenticated
        ? "the key authenticates its pokes"
        : "WRONG KEY: its pokes do not authenticate";
  const cfg = s.hostAddress ? `, configured for host ${s.hostAddress}:${s.hostPort}` : "";
  const data = s.dataDatagrams > 0 ? `, ${s.dataDatagrams} data datagram(s): a debugger session is live` : "";
  return `${s.from}: KDNET protocol version ${s.version}, ${s.pokes} poke(s)${cfg}; ${auth}${data}`;
}

export function register(program: Command, ctx: () => Context): void {
  const kdnet = program.command("kdnet").description("KDNET tools: decode captures, listen for target pokes");

  kdnet
    .command("decode")
    .description("decode a KDNET capture (pcap, pcapng, optionally .gz): one line per datagram and a summary")
    .argument("<capture>", "capture file")
    .option("--key <key>", "the KDNET key (a.b.c.d); visible to other users in 'ps' — prefer --key-file")
    .option("--key-file <file|->", "read the KDNET key from a file, or - for standard input")
    .option("--target <name>", "use this inventory target's stored key")
    .action(async (file: string, opts: { key?: string; keyFile?: string; target?: string }) => {
      const c = ctx();
      const { CaptureFormatError, readUdpCapture } = await import("../../engine/kdnet/capture.js");
      const { decodeCapture, formatDatagramLine, formatSummary, summaryRows } = await import("../../engine/kdnet/decode.js");
      const key = await resolveKey(c, opts);
      if (!key) {
        throw netdbgError("E003", {
          option: "--key",
          value: "(none)",
          reason: "none was given, and a capture decodes only with the target's KDNET key",
          fix: "Pass --key <a.b.c.d> (the key the target was set up with) or --target <name> (a target whose key netdbg stored).",
        });
      }
      let raw: Buffer;
      try {
        raw = await readFile(file);
      } catch (e) {
        throw netdbgError("E500", { file, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, { cause: e });
      }
      let records: ReturnType<typeof readUdpCapture>;
      try {
        records = readUdpCapture(raw);
      } catch (e) {
        if (e instanceof CaptureFormatError || (e as { code?: string }).code?.startsWith("Z_")) {
          throw netdbgError("E500", { file, reason: (e as Error).message }, { cause: e });
        }
        throw e;
      }
      const { datagrams, summary } = decodeCapture(records, key);
      if (summary.datagrams === 0) throw netdbgError("E501", { file, udp: records.length });
      // Nothing authenticates: the key is wrong for this capture (a failed check, exit 1); the listing still prints.
      if (summary.authenticated === 0) process.exitCode = 1;
      if (c.opts.json) {
        // JSON Lines: one object per datagram, then one summary object.
        const lines = datagrams.map((d) => JSON.stringify(d));
        lines.push(JSON.stringify({ summary }));
        process.stdout.write(`${lines.join("\n")}\n`);
        return;
      }
      const t0 = datagrams[0]?.time ?? 0;
      c.out(datagrams.map((d) => formatDatagramLine(d, t0)).join("\n"));
      c.out(formatSummary(summary).join("\n"));
      const rows = summaryRows(summary);
      // a table on a terminal; one "count  what" line each in a pipe (grep-able)
      if (process.stdout.isTTY) c.out(table(["what", "count"], rows, c.color));
      else c.out(rows.map(([what, n]) => `${n.padStart(6)}  ${what}`).join("\n"));
    });

  kdnet
    .command("listen")
    .description("report which targets poke this host on <port>, their protocol version, and whether the key authenticates them")
    .argument("<port>", "UDP port to listen on", parsePort)
    .option("--key <key>", "check pokes against this key; visible to other users in 'ps' — prefer --key-file")
    .option("--key-file <file|->", "read the key to check pokes against from a file, or - for standard input")
    .option("--target <name>", "check pokes against this inventory target's stored key")
    .option("--seconds <s>", "how long to listen (pokes come every ~3 s)", "3.5")
    .option("--all", "listen the whole time instead of stopping at the first poke")
    .option("--address <addr>", "bind address", "0.0.0.0")
    .action(
      async (
        port: number,
        opts: { key?: string; keyFile?: string; target?: string; seconds: string; all?: boolean; address: string },
      ) => {
        // parsed first: a bad --seconds is a usage error before a key file or standard input is read
        const seconds = parseTimeoutSeconds(opts.seconds, "--seconds");
        const c = ctx();
        const key = await resolveKey(c, opts);
        const { openUdp } = await import("../../engine/kdnet/udp.js");
        const { listenForPokes } = await import("../../engine/kdnet/listen.js");
        const transport = await openUdp({ port, address: opts.address });
        c.log.info(`Listening on UDP ${opts.address}:${port} for ${seconds} s …`);
        let sources: PokeSource[];
        try {
          sources = await listenForPokes(transport, {
            ...(key ? { key } : {}),
            durationMs: seconds * 1000,
            stopAfterFirstPoke: !opts.all,
          });
        } finally {
          await transport.close();
        }
        const wrong = sources.filter((s) => s.authenticated === false);
        if (c.opts.json) {
          c.json({ port, keyChecked: key !== undefined, targets: sources, wrongKey: wrong.length > 0 });
        } else if (sources.length === 0) {
          c.out(`No KDNET target poked UDP port ${port} within ${seconds} s.`);
        } else {
          c.out(sources.map(describeSource).join("\n"));
        }
        if (sources.length === 0) process.exitCode = 1;
        if (wrong.length > 0) {
          const w = wrong[0]!;
          throw netdbgError("E503", opts.target ? { from: w.from, port, target: opts.target } : { from: w.from, port });
        }
      },
    );
}
