import { afterEach, describe, expect, it, vi } from "vitest";
import { printAudit } from "../../cli/output/bucket";

function printed(print: () => void): string {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => lines.push(args.join(" ")));
  print();
  log.mockRestore();
  return lines.join("\n");
}

afterEach(() => vi.restoreAllMocks());

describe("bucket audit's report", () => {
  it("prints each drifted setting's expected and found values in full, however long", () => {
    const rule = (id: string) => JSON.stringify({ id, status: "Enabled", prefix: "sets/", transitions: ["30:IA"] });
    const expected = [rule("dump-sets-cool-down"), rule("expire-noncurrent-versions")].join("\n");
    const text = printed(() =>
      printAudit({
        bucket: "b",
        at: "2026-01-01T00:00:00Z",
        drift: [
          { setting: "versioning", expected: "Enabled", found: "Suspended", repaired: true },
          { setting: "lifecycle", expected, found: "no rules", repaired: false },
        ],
      }),
    );
    expect(text).toBe(
      [
        "versioning: drifted, repaired",
        "  expected: Enabled",
        "  found:    Suspended",
        "",
        "lifecycle: drifted, not repaired",
        `  expected: ${rule("dump-sets-cool-down")}`,
        `            ${rule("expire-noncurrent-versions")}`,
        "  found:    no rules",
      ].join("\n"),
    );
    expect(text).not.toContain("...");
  });

  it("says so when nothing drifted", () => {
    expect(printed(() => printAudit({ bucket: "b", at: "2026-01-01T00:00:00Z", drift: [] }))).toBe(
      "b: every setting is as intended.",
    );
  });
});
