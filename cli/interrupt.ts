/** What a shell reports for a command stopped by Ctrl-C: 128 + SIGINT. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Ctrl-C aborts the signal, so a transfer stops cleanly (aborting its upload, removing its partial files) and
 * says what was left. A second Ctrl-C stops at once, putting the terminal back as a progress bar left it.
 */
export function onInterrupt(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = () => {
    if (!controller.signal.aborted) return controller.abort();
    // Show the cursor and turn line wrap back on, as the bar's stop() would have.
    if (process.stderr.isTTY) process.stderr.write("\u001b[?25h\u001b[?7h\n");
    process.exit(INTERRUPTED_EXIT_CODE);
  };
  process.on("SIGINT", handler);
  return { signal: controller.signal, dispose: () => process.removeListener("SIGINT", handler) };
}
