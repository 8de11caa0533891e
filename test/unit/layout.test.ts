import { describe, expect, it } from "vitest";
import { classifyKey, componentKey, makeSetId, manifestKey, setIdTime } from "../../shared/contracts/layout";

describe("bucket layout", () => {
  it("round-trips a set id through its creation time", () => {
    const setId = makeSetId(new Date("2025-03-04T05:06:07.890Z"), "0123456789abcdef");
    expect(setId).toBe("20250304T050607Z-0123456789ab");
    expect(setIdTime(setId)).toBe("2025-03-04T05:06:07Z");
  });

  it("tells manifests, components and restic files apart from the key alone", () => {
    const setId = "20250304T050607Z-0123456789ab";
    expect(classifyKey(manifestKey("db", setId))).toEqual({ type: "set-manifest", source: "db", setId });
    expect(classifyKey(componentKey("db", setId, "main.dump"))).toEqual({
      type: "set-component",
      source: "db",
      setId,
      name: "main.dump",
    });
    expect(classifyKey("restic/ws/snapshots/abc")).toEqual({
      type: "restic-file",
      repository: "ws",
      fileType: "snapshots",
      name: "abc",
    });
    expect(classifyKey("restic/ws/data/ab/abcdef")).toMatchObject({ fileType: "data", name: "abcdef" });
    expect(classifyKey("restic/ws/config")).toMatchObject({ fileType: "config" });
  });

  it("does not recognise keys outside the layout", () => {
    expect(classifyKey("sets/db/not-a-set-id/main.dump").type).toBe("unrecognised");
    expect(classifyKey("sets/db/20250304T050607Z-0123456789ab/nested/file").type).toBe("unrecognised");
    expect(classifyKey("elsewhere/file").type).toBe("unrecognised");
  });
});
