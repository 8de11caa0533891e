import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPOSITORY_ROOT } from "../../cli/local/paths";
import { importCycles, readImportGraph } from "../support/import-graph";

const modules = readImportGraph(REPOSITORY_ROOT, ["shared", "functions", "cli", "infra", "bench", "test"]);

/** shared/<folder>/file.ts → "shared/<folder>"; shared/file.ts → "shared". */
const folderOf = (file: string) => path.dirname(file);

describe("the import graph", () => {
  it("has no import cycle between modules", () => {
    expect(importCycles(modules.map((m) => ({ node: m.file, edges: m.imports })))).toEqual([]);
  });

  it("has no cycle between the folders of shared/, so nothing in shared/ points back up", () => {
    const folders = new Map<string, Set<string>>();
    for (const module of modules.filter((m) => m.file.startsWith("shared/"))) {
      const from = folderOf(module.file);
      const edges = folders.get(from) ?? new Set<string>();
      for (const imported of module.imports) if (folderOf(imported) !== from) edges.add(folderOf(imported));
      folders.set(from, edges);
    }
    const graph = [...folders].map(([node, edges]) => ({ node, edges: [...edges] }));
    const cycles = importCycles(graph);
    const arrows = cycles.flatMap((cycle) =>
      modules
        .filter((m) => cycle.includes(folderOf(m.file)))
        .flatMap((m) =>
          m.imports
            .filter((i) => cycle.includes(folderOf(i)) && folderOf(i) !== folderOf(m.file))
            .map((i) => `${m.file} → ${i}`),
        ),
    );
    expect(arrows).toEqual([]);
  });

  it("keeps shared/ free of cli/, functions/, infra/ and tests; functions/ and infra/ free of cli/", () => {
    const violations = modules.flatMap((m) => {
      const top = m.file.split("/")[0] as string;
      const forbidden: Record<string, string[]> = {
        shared: ["cli", "functions", "infra", "test", "bench"],
        functions: ["cli", "infra", "test", "bench"],
        infra: ["cli", "functions", "test", "bench"],
      };
      return m.imports
        .filter((i) => (forbidden[top] ?? []).includes(i.split("/")[0] as string))
        .map((i) => `${m.file} → ${i}`);
    });
    expect(violations).toEqual([]);
  });

  it("sees the project's imports (not vacuous)", () => {
    expect(modules.length).toBeGreaterThan(100);
    expect(modules.find((m) => m.file === "functions/indexer.ts")?.imports.length).toBeGreaterThan(3);
  });
});
