import { Presets, SingleBar } from "cli-progress";

/** How a long transfer reports itself: a bar on a terminal, nothing otherwise. */
export interface TransferProgress {
  start(totalBytes: number | undefined): void;
  component(name: string): void;
  advance(bytes: number): void;
  stop(): void;
}

export const noProgress: TransferProgress = { start() {}, component() {}, advance() {}, stop() {} };

/** Too early to say: the first seconds' rate says more about connection setup than about the transfer. */
const ETA_AFTER_SECONDS = 2;

export function progressFor(
  stream: NodeJS.WriteStream,
  enabled: boolean,
  clock: () => number = Date.now,
): TransferProgress {
  if (!enabled || !stream.isTTY) return noProgress;
  let bar: SingleBar | undefined;
  let total = 0;
  let done = 0;
  let name = "";
  let startedAt = clock();
  return {
    start(totalBytes) {
      total = totalBytes ?? 0;
      startedAt = clock();
      bar = new SingleBar(
        {
          stream,
          // {total}, {value} and {eta} are cli-progress's own tokens and a payload cannot override them, so
          // the byte counts travel as {done} and {size}. Its own ETA follows the last few updates and swings
          // between seconds and hours; {left} is the average rate since the start, shown after 2 s.
          format: " {bar} {percentage}% | {done} of {size} | {speed} | ETA {left} | {name}",
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0, {
        done: bytes(0),
        size: total ? bytes(total) : "?",
        speed: "",
        left: "…",
        name,
      });
    },
    component(componentName) {
      name = componentName;
      bar?.update({ name });
    },
    advance(count) {
      done += count;
      // Compressed archives can come out larger than the estimate; grow the total rather than overflow.
      if (done > total) {
        total = done;
        bar?.setTotal(total);
      }
      const elapsed = (clock() - startedAt) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      bar?.update(done, {
        done: bytes(done),
        size: bytes(total),
        speed: rate > 0 ? `${bytes(rate)}/s` : "",
        left: elapsed >= ETA_AFTER_SECONDS && rate > 0 ? duration((total - done) / rate) : "…",
        name,
      });
    },
    stop() {
      bar?.stop();
    },
  };
}

export function bytes(count: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** A remaining time as a person reads it: "45s", "3m05s", "2h10m". */
export function duration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}
