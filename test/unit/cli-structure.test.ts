import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPOSITORY_ROOT } from "../../cli/local/paths";
import { buildProgram } from "../../cli/main";

/** Every command without subcommands, by its full name (`retention plan`). */
function leaves(command: Command, prefix: string[] = []): { name: string; command: Command }[] {
  return command.commands.flatMap((child) => {
    const name = [...prefix, child.name()];
    return child.commands.length === 0 ? [{ name: name.join(" "), command: child }] : leaves(child, name);
  });
}

const program = buildProgram();
const commands = leaves(program);
const find = (name: string) => commands.find((leaf) => leaf.name === name)?.command as Command;

describe("the command tree", () => {
  it("gives every command a description and, except local start, --json", () => {
    expect(commands.length).toBeGreaterThan(20);
    const undescribed = commands.filter(({ command }) => command.description().trim() === "").map((c) => c.name);
    expect(undescribed).toEqual([]);
    const withoutJson = commands
      .filter(({ command }) => !command.options.some((option) => option.long === "--json"))
      .map((c) => c.name);
    expect(withoutJson).toEqual(["local start"]);
  });

  it("shows no `(default: [])` for repeatable options", () => {
    const shown = commands.filter(({ command }) => command.helpInformation().includes("(default: [])"));
    expect(shown.map((c) => c.name)).toEqual([]);
  });

  it("keeps --group-by declared on retention plan and set-policy, but out of their help", () => {
    for (const name of ["retention plan", "retention set-policy"]) {
      const option = find(name).options.find((o) => o.long === "--group-by");
      expect(option?.short, name).toBe("-g");
      expect(option?.hidden, name).toBe(true);
      expect(find(name).helpInformation(), name).not.toContain("--group-by");
    }
    expect(find("catalog list").helpInformation()).toContain("--group-by");
  });
});

describe("restorable alerts", () => {
  /** Which subcommand a command line reaches, with its options, the actions replaced by a recorder. */
  async function route(...argv: string[]): Promise<[string, Record<string, unknown>]> {
    const built = buildProgram();
    const alerts = built.commands.find((command) => command.name() === "alerts") as Command;
    let reached: [string, Record<string, unknown>] = ["none", {}];
    for (const sub of alerts.commands) {
      sub.action((options: Record<string, unknown>) => {
        reached = [sub.name(), options];
      });
    }
    await built.parseAsync(["node", "restorable", ...argv]);
    return reached;
  }

  it("lists as it always did, and routes `alerts test` and each --json to the subcommand meant", async () => {
    expect(await route("alerts")).toEqual(["list", { limit: 20 }]);
    expect(await route("alerts", "--json", "--limit", "3")).toEqual(["list", { limit: 3, json: true }]);
    expect(await route("alerts", "list", "--json")).toEqual(["list", { limit: 20, json: true }]);
    expect(await route("alerts", "test", "--json")).toEqual(["test", { json: true }]);
    expect(await route("alerts", "test")).toEqual(["test", {}]);
    await expect(route("alerts", "bogus")).rejects.toMatchObject({ code: "commander.excessArguments" });
  });
});

const MAX_FUNCTION_LINES = 80;
const COMMANDS_DIRECTORY = path.join(REPOSITORY_ROOT, "cli", "commands");

function typeScriptFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: "utf-8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => path.join(directory, file));
}

interface FunctionSpan {
  where: string;
  lines: number;
}

/** Every function in a file (declarations, arrows, expressions, methods, accessors) with the lines it spans. */
function functionSpans(file: string, text = readFileSync(file, "utf-8")): FunctionSpan[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : ts.SyntaxKind[node.kind];
      spans.push({ where: `${path.relative(REPOSITORY_ROOT, file)}:${start + 1} ${name}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

describe("cli/commands", () => {
  const spans = typeScriptFiles(COMMANDS_DIRECTORY).flatMap((file) => functionSpans(file));

  it(`has no function longer than ${MAX_FUNCTION_LINES} lines`, () => {
    expect(spans.length, "the check sees the commands' functions").toBeGreaterThan(50);
    const long = spans.filter((span) => span.lines > MAX_FUNCTION_LINES).map((s) => `${s.where} (${s.lines} lines)`);
    expect(long).toEqual([]);
  });

  it("measures every kind of function, nested ones too, as the lines it spans", () => {
    const body = Array.from({ length: 85 }, (_, line) => `    console.log(${line});`).join("\n");
    const text = [
      "export function declared() {",
      "  command.action(async (options) => {",
      body,
      "  });",
      "}",
      "const expressed = function () { return 1; };",
      "class C { method() {\n  return 2;\n} }",
    ].join("\n");
    const spans = functionSpans(path.join(COMMANDS_DIRECTORY, "example.ts"), text);
    expect(spans.map((span) => [span.where.replace(/^.*:/, ""), span.lines])).toEqual([
      ["1 declared", 89],
      ["2 ArrowFunction", 87],
      ["90 FunctionExpression", 1],
      ["91 method", 3],
    ]);
  });

  it("puts every subcommand in a file of its own under its group's folder", () => {
    const files = typeScriptFiles(COMMANDS_DIRECTORY).map((file) => path.relative(COMMANDS_DIRECTORY, file));
    for (const { name } of commands) {
      const [group, subcommand] = name.split(" ");
      const expected = subcommand ? `${group}/${subcommand}.ts` : `${group}.ts`;
      expect(files, name).toContain(expected);
    }
  });
});
