import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "./local/paths";

/** The version users see in manifests and `--version`, read from package.json so there is one source. */
export const PROGRAM_VERSION: string = (
  JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, "package.json"), "utf-8")) as { version: string }
).version;
