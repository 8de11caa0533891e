import { readFileSync } from "node:fs";

/** The version users see in manifests and `--version`, read from package.json so there is one source. */
export const PROGRAM_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf-8")) as { version: string }
).version;
