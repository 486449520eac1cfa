/** The README's first command is the demo: a newcomer's first line must run `netdbg demo` (issue 8). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const quickstart = readFileSync(new URL("../../docs/quickstart.md", import.meta.url), "utf8");

/** The command lines of the first ```sh block, comments removed. */
function firstCommands(text: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? "";
  return block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

describe("README", () => {
  it("its first command is exactly 'npm install && npx netdbg demo', then 'npm test'", () => {
    expect(firstCommands(readme)).toEqual(["npm install && npx netdbg demo", "npm test"]);
  });

  it("the quickstart starts with the same two commands", () => {
    expect(firstCommands(quickstart)).toEqual(firstCommands(readme));
  });

  it("the demo command it names exists in the CLI", async () => {
    const { buildProgram } = await import("../../src/cli/main.js");
    const program = buildProgram(() => {
      throw new Error("no context needed to list commands");
    });
    expect(program.commands.map((c) => c.name())).toContain("demo");
  });
});
