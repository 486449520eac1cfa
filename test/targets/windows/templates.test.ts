/**
 * Templates and their transport: every templates/windows/*.ps1 parses as PowerShell (tree-sitter-powershell,
 * no pwsh needed; research/toolchain.md) and declares a param() block; a rendered script parses too; any
 * parameter value — quotes of every kind, newlines, $, backticks, braces — arrives as exactly one string
 * literal holding exactly that value (property test), both for the PowerShell grammar and for the model.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Language, type Node, Parser } from "web-tree-sitter";
import { SUPPORTED_NICS } from "../../../src/targets/windows/index.js";
import {
  MAX_COMMAND_LINE,
  parsePsJson,
  psStderrText,
  renderScript,
  type TemplateName,
  wireCommand,
} from "../../../src/targets/windows/ps.js";
import { parseParamsLiteral } from "../../../src/peers/windows-target/model.js";
import { fixture } from "./fixtures.js";

let parser: Parser;
beforeAll(async () => {
  await Parser.init();
  const wasm = new URL("../../../node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm", import.meta.url);
  parser = new Parser();
  parser.setLanguage(await Language.load(readFileSync(wasm)));
});

const dir = new URL("../../../templates/windows/", import.meta.url);
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".ps1"))
  .map((f) => f.replace(/\.ps1$/, "") as TemplateName);

function errors(node: Node): string[] {
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.type === "ERROR" || n.isMissing)
      out.push(`${n.type} at ${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${n.text.slice(0, 60)}`);
    for (const c of n.children) if (c) walk(c);
  };
  walk(node);
  return out;
}

function find(node: Node, type: string): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    if (n.type === type) out.push(n);
    for (const c of n.children) if (c) walk(c);
  };
  walk(node);
  return out;
}

/** A PowerShell verbatim string's value: any of the five single-quote characters doubled stands for one. */
function verbatim(text: string): string {
  const Q = "'\u2018\u2019\u201A\u201B";
  let v = "";
  for (let i = 1; i < text.length - 1; i++) {
    v += text[i];
    if (Q.includes(text[i]!) && Q.includes(text[i + 1] ?? "")) i++;
  }
  return v;
}

describe("templates/windows", () => {
  it("ships the templates netdbg runs", () => {
    expect(names.sort()).toEqual([
      "bcd-booleans",
      "bcd-delete-entry",
      "bcd-export",
      "bcd-restore-object",
      "bcdedit",
      "bitlocker",
      "probe",
      "reboot",
      "whoami",
    ]);
  });
  for (const name of [
    "bcd-delete-entry",
    "bcd-export",
    "bcd-restore-object",
    "bcdedit",
    "bitlocker",
    "probe",
    "reboot",
    "whoami",
  ] as const) {
    it(`${name}.ps1 parses without errors, has a param() block, and renders to a script that parses`, () => {
      const text = readFileSync(new URL(`${name}.ps1`, dir), "utf8");
      const tree = parser.parse(text)!;
      expect(errors(tree.rootNode)).toEqual([]);
      expect(find(tree.rootNode, "param_block")).toHaveLength(1);
      const rendered = parser.parse(renderScript(name, { A: "x", B: ["y"], C: 1, D: true }))!;
      expect(errors(rendered.rootNode)).toEqual([]);
      expect(text).not.toMatch(/Invoke-Expression|iex /i); // values are never evaluated as code
    });
  }
});

describe("parameters cannot break out", () => {
  const nasty = fc.string({
    unit: fc.constantFrom(
      "'",
      "\u2018",
      "\u2019",
      "\u201A",
      "\u201B",
      '"',
      "$",
      "`",
      "{",
      "}",
      "(",
      ")",
      ";",
      "\n",
      "\r",
      " ",
      "a",
      "é",
      "#",
      "@",
      "|",
      "&",
    ),
    maxLength: 24,
  });
  it("any string value is one verbatim string literal holding exactly that value", () => {
    fc.assert(
      fc.property(nasty, fc.array(nasty, { maxLength: 3 }), (s, arr) => {
        const script = renderScript("whoami", { Value: s, List: arr });
        const tree = parser.parse(script)!;
        expect(errors(tree.rootNode)).toEqual([]);
        const hash = find(tree.rootNode, "hash_literal_expression")[0]!;
        const entries = find(hash, "hash_entry");
        expect(entries).toHaveLength(2);
        const strings = find(entries[0]!, "string_literal");
        expect(strings).toHaveLength(1);
        expect(verbatim(strings[0]!.text)).toBe(s);
        expect(find(entries[1]!, "string_literal").map((n) => verbatim(n.text))).toEqual(arr);
        expect(parseParamsLiteral(script)).toEqual({ Value: s, List: arr });
      }),
      { numRuns: 300 },
    );
  });
});

describe("the wire", () => {
  it("short scripts go as -EncodedCommand (UTF-16LE base64), long ones as one stdin line to -Command -", () => {
    const short = wireCommand("Write-Output 1");
    expect(short.commandLine).toBe(
      `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${Buffer.from("Write-Output 1", "utf16le").toString("base64")}`,
    );
    expect(short.input).toBeUndefined();
    const long = wireCommand("#".repeat(6000));
    expect(long.commandLine).toBe("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command -");
    expect(long.input!.split("\r\n").filter(Boolean)).toHaveLength(2);
    const b64 = /FromBase64String\('([^']+)'\)/.exec(long.input!)![1]!;
    expect(Buffer.from(b64, "base64").toString("utf16le")).toBe("#".repeat(6000));
    expect(wireCommand(renderScript("probe", { ExportDir: "C:\\x" })).commandLine.length).toBeLessThanOrEqual(MAX_COMMAND_LINE);
  });
  it("answers are read through BOMs, banners and CLIXML noise", () => {
    expect(parsePsJson("t", '\uFEFFsome banner\r\n{"a":1}\r\n\r\n')).toEqual({ a: 1 });
    expect(() => parsePsJson("t", "Windows PowerShell\r\nno json here\r\n")).toThrow(/NETDBG-E213|did not answer with JSON/);
    const clixml =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN></Obj><S S="Error">Access is denied._x000D__x000A_</S><S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>';
    expect(psStderrText(clixml)).toBe("Access is denied.\r\nAt line:1 char:1".replace(/\r/g, ""));
  });
});

describe("the supported-NIC table", () => {
  it("equals the fixture entry by entry (vendor, device, first build)", () => {
    const j = JSON.parse(fixture("nics/kdnet-supported-nics.json")) as {
      entries: { vendorId: string; deviceId: string; minBuild: number | null; firstListedBuild: number }[];
    };
    expect(SUPPORTED_NICS.size).toBe(j.entries.length);
    for (const e of j.entries) expect(SUPPORTED_NICS.get(`${e.vendorId}:${e.deviceId}`)).toBe(e.minBuild ?? e.firstListedBuild);
    expect(SUPPORTED_NICS.get("8086:10D3")).toBeDefined(); // e1000e, the usual QEMU NIC
    expect(SUPPORTED_NICS.has("1AF4:1000")).toBe(false); // virtio-net
  });
});
