import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository this CLI runs from, found by walking up to our package.json: the same answer from
 * the TypeScript sources and from the bundle in dist/.
 */
function findRepositoryRoot(start: string): string {
  let directory = start;
  for (;;) {
    const manifest = path.join(directory, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf-8")) as { name?: string }).name === "restorable"
    ) {
      return directory;
    }
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`cannot find restorable's package.json above ${start}`);
    directory = parent;
  }
}

export const REPOSITORY_ROOT = findRepositoryRoot(path.dirname(fileURLToPath(import.meta.url)));
export const VENV_DIRECTORY = path.join(REPOSITORY_ROOT, ".venv");
export const TOOLS_DIRECTORY = path.join(REPOSITORY_ROOT, ".tools");
