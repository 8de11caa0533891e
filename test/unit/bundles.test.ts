import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPOSITORY_ROOT } from "../../cli/local/paths";
import { LAMBDA_BUNDLING, NEVER_REACHED_IN_LAMBDA } from "../../infra/constructs/restorable-function";
import { readImportGraph } from "../support/import-graph";

const modules = readImportGraph(REPOSITORY_ROOT, ["shared", "functions", "cli"]);
const source = (file: string) => readFileSync(path.join(REPOSITORY_ROOT, file), "utf-8");

/** Every project module `entry` reaches through its imports, type-only ones aside (they are not bundled). */
function reachable(entry: string): Set<string> {
  const files = new Set(modules.map((module) => module.file));
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = source(file).replace(/^(import|export)\s+type\s[^;]*;/gms, "");
    for (const [, , specifier] of code.matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\1/g,
    )) {
      const target = path.relative(
        REPOSITORY_ROOT,
        path.resolve(REPOSITORY_ROOT, path.dirname(file), specifier as string),
      );
      const resolved = [`${target}.ts`, path.join(target, "index.ts"), target].find((candidate) =>
        files.has(candidate),
      );
      if (resolved) visit(resolved);
    }
  };
  visit(entry);
  return seen;
}

describe("what goes into the bundles (#17)", () => {
  it("imports zod as a namespace: `import { z }` keeps all of zod (its 40 locales too), 450 KB in every bundle", () => {
    const named = modules
      .map((module) => module.file)
      .filter((file) => /^import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*["']zod["']/m.test(source(file)));
    expect(named, 'write `import * as z from "zod"`').toEqual([]);
  });

  it("keeps the local stack, the CDK and esbuild out of the host CLI (cli/host.ts)", () => {
    const reached = [...reachable("cli/host.ts")];
    expect([...reachable("cli/run.ts")].some((f) => f.startsWith("cli/local/"))).toBe(true);
    expect(reached).toContain("cli/commands/push.ts");
    expect(reached.filter((file) => file.startsWith("cli/local/") || file === "cli/main.ts")).toEqual([]);
    const heavy = reached.filter((file) => /from\s*["'](aws-cdk-lib|constructs|esbuild)["/]/.test(source(file)));
    expect(heavy).toEqual([]);
  });

  it("bundles the Lambdas as ES modules, the source map beside them without the sources, the SDK inside", () => {
    expect(LAMBDA_BUNDLING).toMatchObject({ format: "esm", minify: true, sourceMap: true, sourcesContent: false });
    // Only the credential chain's links after the environment's are left out (see NEVER_REACHED_IN_LAMBDA).
    expect(NEVER_REACHED_IN_LAMBDA.every((name) => name.startsWith("@aws-sdk/"))).toBe(true);
    expect(NEVER_REACHED_IN_LAMBDA).not.toContain("@aws-sdk/credential-provider-env");
  });
});
