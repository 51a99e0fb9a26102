/** Call sites for Errors reported later than the call (WebGPU sync points, anomaly mode's backward). */

/** webgrad's own code, from this module's stack frame: the src/ folder, or the bundle file itself. */
const ROOT = (() => {
  const frame = (new Error().stack ?? "").split("\n")[1] ?? "";
  const file = frame.includes("(") ? frame.slice(frame.lastIndexOf("(") + 1) : frame.replace(/^\s*at\s+/, "");
  const path = file.replace(/:\d+:\d+\)?\s*$/, "");
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  return /[/\\]src[/\\]$/.test(dir) ? dir : path;
})();

/** A stack deep enough to reach the user's code past webgrad's own frames. */
export function captureSite(label = "call site"): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 32;
  const site = new Error(label);
  Error.stackTraceLimit = limit;
  return site;
}

/** The frames of a captured site outside webgrad (all of them when none is outside). */
export function userFrames(site: Error): string {
  const lines = (site.stack ?? "").split("\n").slice(1);
  const outside = ROOT ? lines.filter((l) => !l.includes(ROOT)) : lines;
  return (outside.length ? outside : lines).join("\n");
}
