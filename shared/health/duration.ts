import { InvalidInputError } from "../errors";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * A duration as people type it: `24h`, `90m`, `2d`, `1w`, `45s`, or parts together (`1d12h`, `1h30m`).
 * Seconds, a whole positive number.
 */
export function parseDuration(text: string, what = "duration"): number {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+)\s*([smhdw])/g)];
  const rebuilt = parts.map((part) => part[0]).join("");
  if (parts.length === 0 || rebuilt.replace(/\s/g, "") !== trimmed.replace(/\s/g, "")) {
    throw new InvalidInputError(
      "invalid-duration",
      `${what}: "${text}" is not a duration such as 24h, 90m, 2d or 1h30m (units s, m, h, d, w)`,
    );
  }
  const seconds = parts.reduce((sum, part) => sum + Number(part[1]) * (UNITS[part[2] as string] as number), 0);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new InvalidInputError("invalid-duration", `${what}: "${text}" must be longer than 0`);
  }
  return seconds;
}

/** `2d3h`, `1h30m`, `45m`, `30s`: the two largest non-zero units (a duration shown to people, rounded down). */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  if (whole < 60) return `${whole}s`;
  const units: [string, number][] = [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ];
  const parts: string[] = [];
  let rest = whole;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(count > 0 ? `${count}${unit}` : "");
    if (parts.length === 2) break;
  }
  return parts.filter((part) => part !== "").join("") || "0s";
}
