import { describe, expect, it } from "vitest";
import { partPlan } from "../../cli/upload/hashing-upload";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("multipart part sizes", () => {
  it("uses 8 MiB parts, 4 in flight, for ordinary files", () => {
    expect(partPlan(1 * GiB)).toEqual({ partSize: 8 * MiB, queueSize: 4 });
  });

  it("grows the parts so that S3's largest object stays within 10,000 parts", () => {
    const { partSize } = partPlan(5 * 1024 * GiB);
    expect(Math.ceil((5 * 1024 * GiB) / partSize)).toBeLessThanOrEqual(10_000);
    expect(partSize % MiB).toBe(0);
  });

  it("keeps memory the same for a stream of unknown length: bigger parts, fewer in flight", () => {
    const known = partPlan(1 * GiB);
    const unknown = partPlan(undefined);
    expect(unknown.partSize * unknown.queueSize).toBe(known.partSize * known.queueSize);
  });
});
