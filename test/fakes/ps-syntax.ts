/** PowerShell syntax check without PowerShell: web-tree-sitter + the tree-sitter-powershell WASM grammar. */
import { createRequire } from "node:module";
import { Language, type Node, Parser } from "web-tree-sitter";

let parser: Parser | undefined;

async function getParser(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  const wasm = createRequire(import.meta.url).resolve("tree-sitter-powershell/tree-sitter-powershell.wasm");
  const lang = await Language.load(wasm);
  parser = new Parser();
  parser.setLanguage(lang);
  return parser;
}

export interface PsSyntax {
  errors: number;
  missing: number;
  hasError: boolean;
  /** Text of the first ERROR node, for a readable failure. */
  firstError?: string;
}

export async function psSyntax(source: string): Promise<PsSyntax> {
  const tree = (await getParser()).parse(source);
  if (!tree) throw new Error("tree-sitter returned no tree");
  const root = tree.rootNode;
  const errors = root.descendantsOfType("ERROR").filter((n): n is Node => n !== null);
  let missing = 0;
  const walk = (n: Node) => {
    if (n.isMissing) missing++;
    for (const c of n.children) if (c) walk(c);
  };
  walk(root);
  const out: PsSyntax = { errors: errors.length, missing, hasError: root.hasError };
  if (errors[0]) out.firstError = errors[0].text.slice(0, 120);
  tree.delete();
  return out;
}
