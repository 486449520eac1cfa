#!/usr/bin/env node
// A stand-in for powershell/pwsh, for testing netdbg's PowerShell adapters without PowerShell.
// Speaks node-powershell's (child-shell) framing on stdin: every call arrives as
//   [Console]::Error.WriteLine("<delim>") / [Console]::Out.WriteLine("<delim>") / <command> / (the two again)
// and with -EncodedCommand <base64 UTF-16LE> it runs one command and exits with its code.
// A <command> must be netdbg's invocation line (src/io/powershell.ts renderInvocation): the fake decodes the
// base64 params and script from it, logs them (FAKE_PWSH_LOG, one JSON line each) and answers from a tiny
// model of the Windows cmdlets netdbg uses, keeping firewall state in FAKE_PWSH_STATE (a JSON file).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

const env = process.env;

function decodeInvocation(line) {
  const b64 = [...line.matchAll(/FromBase64String\('([A-Za-z0-9+/=]*)'\)/g)].map((m) =>
    Buffer.from(m[1], "base64").toString("utf8"),
  );
  if (b64.length !== 2) return undefined;
  return { params: JSON.parse(b64[0]), script: b64[1], ending: line.includes("##netdbg-exit=") ? "marker" : "exit" };
}

function loadState() {
  const file = env.FAKE_PWSH_STATE;
  const base = {
    rule: null,
    profiles: ["Domain", "Private", "Public"].map((name) => ({
      name,
      enabled: "True",
      defaultInboundAction: "Block",
      allowInboundRules: "True",
      allowLocalFirewallRules: "True",
    })),
    elevated: true,
    blockRules: [],
  };
  if (file && existsSync(file)) return { ...base, ...JSON.parse(readFileSync(file, "utf8")) };
  return base;
}
function saveState(s) {
  if (env.FAKE_PWSH_STATE) writeFileSync(env.FAKE_PWSH_STATE, JSON.stringify(s));
}

/** Returns { stdout, stderr, code } for one decoded call. */
function answer({ params, script }) {
  if (env.FAKE_PWSH_LOG) appendFileSync(env.FAKE_PWSH_LOG, `${JSON.stringify({ params, script })}\n`);
  const json = (o) => ({ stdout: `${JSON.stringify(o)}\n`, stderr: "", code: 0 });
  if (script.includes("THROW-ME")) return { stdout: "", stderr: "Access is denied.\n", code: 1 };
  if (script.includes("Find-NetRoute")) {
    return json({
      localAddress: "192.0.2.2",
      interfaceAlias: "Ethernet",
      interfaceIndex: 7,
      nextHop: "0.0.0.0",
      mtu: 1500,
      physicalMediaType: "802.3",
      description: "Intel(R) Ethernet",
    });
  }
  const s = loadState();
  if (script.includes("New-NetFirewallRule")) {
    s.rule = {
      enabled: "True",
      direction: "Inbound",
      action: "Allow",
      profile: "Any",
      protocol: "UDP",
      localPort: [String(params.Port)],
      remoteAddress: [params.RemoteAddress],
      name: params.Name,
    };
    saveState(s);
    return json({ changed: true });
  }
  if (script.includes("Remove-NetFirewallRule")) {
    const had = s.rule !== null;
    s.rule = null;
    saveState(s);
    return json({ changed: had });
  }
  if (script.includes("Get-NetFirewallProfile")) {
    const rule = s.rule && s.rule.name === params.Name ? { ...s.rule } : null;
    if (rule) delete rule.name;
    // Windows PowerShell 5.1 ConvertTo-Json flattens one-element arrays: imitate it
    if (rule && rule.localPort.length === 1) rule.localPort = rule.localPort[0];
    return json({ elevated: s.elevated, profiles: s.profiles, rule, blockRules: s.blockRules });
  }
  if (script.includes("Get-NetIPsecRule")) return json(s.ipsec ?? []);
  return json({ echo: params });
}

function run(line) {
  const call = decodeInvocation(line);
  if (!call)
    return { stdout: "", stderr: `fake-pwsh: not a netdbg invocation: ${line.slice(0, 60)}\n`, code: 1, ending: "marker" };
  return { ...answer(call), ending: call.ending };
}

const args = process.argv.slice(2);
const enc = args.indexOf("-EncodedCommand");
if (enc >= 0) {
  const line = Buffer.from(args[enc + 1] ?? "", "base64").toString("utf16le");
  const r = run(line);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
} else {
  const rl = createInterface({ input: process.stdin });
  const frame = /^\[Console\]::(Out|Error)\.WriteLine\("([^"]*)"\)$/;
  rl.on("line", (line) => {
    const m = frame.exec(line.trim());
    if (m) {
      (m[1] === "Out" ? process.stdout : process.stderr).write(`${m[2]}\n`);
      return;
    }
    if (line.trim() === "") return;
    const r = run(line);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    if (r.ending === "marker") process.stdout.write(`##netdbg-exit=${r.code}\n`);
  });
}
