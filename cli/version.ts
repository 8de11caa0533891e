import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Set by cli/build.ts in the bundles it makes (esbuild `define`), so that they never look for package.json. */
declare const RESTORABLE_BUILD_VERSION: string | undefined;

/**
 * Run from the sources: package.json's version, found above this file (our package.json, named restorable).
 * Not cli/local/paths.ts, which the host bundle must not contain.
 */
function versionOfPackage(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(directory, "package.json");
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, "utf-8")) as { name?: string; version?: string };
      if (name === "restorable" && version) return version;
    }
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error("cannot find restorable's package.json above cli/version.ts");
    directory = parent;
  }
}

/** The version users see in manifests and `--version`: package.json's, baked into the bundles as they are built. */
export const PROGRAM_VERSION: string =
  typeof RESTORABLE_BUILD_VERSION === "string" ? RESTORABLE_BUILD_VERSION : versionOfPackage();
