/** The CLI's entry point in a checkout (bundled as dist/restorable.mjs, run by cli/bin/restorable.mjs). */
import { buildProgram } from "./main";
import { runCommandLine } from "./program";

await runCommandLine(buildProgram);
