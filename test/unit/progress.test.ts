import { PassThrough } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { duration, progressFor } from "../../cli/upload/progress";

/** A stream that says it is a terminal, so the bar draws into it. */
function fakeTerminal(): { stream: NodeJS.WriteStream; screen: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 }) as unknown as NodeJS.WriteStream;
  const chunks: string[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf-8")));
  return { stream, screen: () => stripVTControlCharacters(chunks.join("")) };
}

describe("the push progress bar", () => {
  it("shows bytes done and the total in readable units, with the component being sent", () => {
    const { stream, screen } = fakeTerminal();
    const progress = progressFor(stream, true);
    progress.start(4 * 1024 * 1024);
    progress.component("main.dump");
    progress.advance(3 * 1024 * 1024);
    progress.advance(1024 * 1024);
    progress.stop();
    expect(screen()).toContain("100% | 4.0 MiB of 4.0 MiB |");
    expect(screen()).toContain("| main.dump");
  });

  it("estimates the time left from the average rate since the start, and not before two seconds", () => {
    const { stream, screen } = fakeTerminal();
    let now = 0;
    const progress = progressFor(stream, true, () => now);
    progress.start(100 * 1024 * 1024);
    now = 100;
    progress.advance(1024 * 1024);
    expect(screen()).not.toMatch(/ETA \d/);
    expect(screen()).toContain("ETA …");
    now = 10_000;
    progress.advance(9 * 1024 * 1024);
    progress.stop();
    // 10 MiB in 10 s: 90 MiB left at 1 MiB/s.
    expect(screen()).toContain("ETA 1m30s");
    expect(screen()).not.toMatch(/ETA \d+h/);
  });

  it("reads durations as a person does", () => {
    expect([duration(4.4), duration(185), duration(7800)]).toEqual(["4s", "3m05s", "2h10m"]);
  });

  it("draws nothing when the output is not a terminal", () => {
    const { stream, screen } = fakeTerminal();
    (stream as { isTTY: boolean }).isTTY = false;
    const progress = progressFor(stream, true);
    progress.start(10);
    progress.advance(10);
    progress.stop();
    expect(screen()).toBe("");
  });
});
