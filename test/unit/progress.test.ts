import { PassThrough } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { progressFor } from "../../cli/upload/progress";

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
