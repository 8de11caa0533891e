/** The CLI's entry point (bundled as dist/restorable.mjs, run by cli/bin/restorable.mjs). */
import { main } from "./main";

// `restorable catalog list | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv);
