/**
 * `retention set-policy` flags that keep only the newest backup, with the safety floors out of the way (the
 * newest one kept, any share removable, nothing protected by age): what a test that needs something forgotten
 * or removed sets.
 */
export const KEEP_ONLY_THE_NEWEST = [
  "--keep-last",
  "1",
  "--floor-keep-newest",
  "1",
  "--floor-max-removal-percent",
  "100",
  "--floor-protect-hours",
  "0",
] as const;
