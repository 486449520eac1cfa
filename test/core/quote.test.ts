import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { psEncodedCommand, psQuote, shCommand, shQuote } from "../../src/core/quote.js";

// Strings full of shell metacharacters, quotes (incl. typographic), newlines and unicode.
const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      "'",
      '"',
      "`",
      "$",
      "(",
      ")",
      ";",
      "&",
      "|",
      "\n",
      "\\",
      " ",
      "*",
      "?",
      "~",
      "#",
      "!",
      "{",
      "}",
      "\u2018",
      "\u2019",
      "%",
      "\t",
    ),
    fc.string({ minLength: 1, maxLength: 1 }),
    fc.constantFrom("é", "😀", "\u00a0"),
  ),
  maxLength: 40,
});

describe("POSIX sh quoting", () => {
  it("leaves safe words bare and quotes everything else", () => {
    expect(shQuote("abc-1.2/x")).toBe("abc-1.2/x");
    expect(shQuote("")).toBe("''");
    expect(shQuote("a b")).toBe("'a b'");
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
  });

  it("rejects NUL", () => {
    expect(() => shQuote("a\0b")).toThrow(/NUL/);
  });

  it("no value breaks out: a real sh prints every argument back unchanged (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          nasty.filter((s) => !s.includes("\0")),
          { minLength: 1, maxLength: 4 },
        ),
        (args) => {
          const line = `printf '%s\\0' ${shCommand(args)}`;
          const out = execFileSync("sh", ["-c", line], { encoding: "utf8" });
          expect(out.split("\0").slice(0, -1)).toEqual(args);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("PowerShell quoting", () => {
  it("doubles every kind of single quote", () => {
    expect(psQuote("a'b")).toBe("'a''b'");
    expect(psQuote("x\u2019y")).toBe("'x\u2019\u2019y'");
    expect(psQuote("$(whoami)")).toBe("'$(whoami)'");
  });

  // A model of PowerShell's single-quoted string lexer (about_Quoting_Rules): inside '…' every quote
  // character (' ‘ ’ ‚ ‛) ends the string unless the next character is also a quote character, which
  // makes one literal quote. Nothing else is special. The literal must consume the whole input.
  const QUOTES = new Set(["'", "\u2018", "\u2019", "\u201A", "\u201B"]);
  function lexSingleQuoted(text: string): { value: string; rest: string } | undefined {
    const chars = [...text];
    if (!QUOTES.has(chars[0] ?? "")) return undefined;
    let value = "";
    for (let i = 1; i < chars.length; i++) {
      const c = chars[i]!;
      if (QUOTES.has(c)) {
        if (QUOTES.has(chars[i + 1] ?? "")) {
          value += c;
          i++;
          continue;
        }
        return { value, rest: chars.slice(i + 1).join("") };
      }
      value += c;
    }
    return undefined;
  }

  it("no value breaks out of the literal (property, lexer model)", () => {
    fc.assert(
      fc.property(
        nasty.filter((s) => !s.includes("\0")),
        (v) => {
          const lexed = lexSingleQuoted(psQuote(v));
          expect(lexed).toEqual({ value: v, rest: "" });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("encodes -EncodedCommand as base64 of UTF-16LE", () => {
    expect(psEncodedCommand("dir")).toBe(Buffer.from("d\0i\0r\0").toString("base64"));
    expect(psEncodedCommand("x")).toMatch(/^[A-Za-z0-9+/=]+$/);
  });
});
