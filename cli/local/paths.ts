import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository this CLI runs from; the local stack keeps its emulator and state beside it. */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const VENV_DIRECTORY = path.join(REPOSITORY_ROOT, ".venv");
export const TOOLS_DIRECTORY = path.join(REPOSITORY_ROOT, ".tools");
