import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

/** One project module and the project modules it imports (static, re-exported, dynamic; type-only too). */
export interface ModuleImports {
  file: string;
  imports: string[];
}

const SKIP = new Set(["node_modules", ".git", ".venv", ".tools", "cdk.out", "dist", ".restorable"]);
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\1/g;

/** Every .ts module under the given folders of `root`, with its relative imports resolved to files. */
export function readImportGraph(root: string, folders: readonly string[]): ModuleImports[] {
  const modules: ModuleImports[] = [];
  for (const folder of folders) {
    for (const file of walk(path.join(root, folder))) {
      const source = readFileSync(file, "utf-8");
      const imports = new Set<string>();
      for (const match of source.matchAll(IMPORT)) {
        const resolved = resolveModule(path.dirname(file), match[2] as string);
        if (resolved) imports.add(path.relative(root, resolved));
      }
      modules.push({ file: path.relative(root, file), imports: [...imports].sort() });
    }
  }
  return modules;
}

function walk(directory: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(directory)) {
    if (SKIP.has(name)) continue;
    const full = path.join(directory, name);
    if (statSync(full).isDirectory()) files.push(...walk(full));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) files.push(full);
  }
  return files;
}

function resolveModule(fromDirectory: string, specifier: string): string | undefined {
  const target = path.resolve(fromDirectory, specifier);
  for (const candidate of [target, `${target}.ts`, path.join(target, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this candidate
    }
  }
  return undefined;
}

/** Strongly connected components with more than one module (or a module importing itself): import cycles. */
export function importCycles(graph: readonly { node: string; edges: readonly string[] }[]): string[][] {
  const edges = new Map(graph.map((entry) => [entry.node, entry.edges]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) cycles.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return cycles;
}
