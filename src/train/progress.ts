/**
 * The per-epoch progress line on stderr: redrawn in place with \r on a
 * terminal; on a pipe or log file, one line per update (the trainer sends
 * about ten per epoch then) so logs stay short.
 */
export interface Progress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  examplesPerSecond: number;
  /** Mean training loss over the batches since the previous update. */
  loss: number;
}

export interface Sink {
  isTTY?: boolean;
  write(s: string): unknown;
}

const BAR = 24;

export function formatProgress(p: Progress): string {
  const filled = Math.round((BAR * p.batch) / p.batches);
  const bar = "#".repeat(filled) + "-".repeat(BAR - filled);
  const w = String(p.batches).length;
  return (
    `epoch ${String(p.epoch).padStart(String(p.epochs).length)}/${p.epochs} [${bar}] ` +
    `${String(p.batch).padStart(w)}/${p.batches}  ${Math.round(p.examplesPerSecond).toString().padStart(6)} ex/s  loss ${p.loss.toFixed(4)}`
  );
}

/** A progress callback for the trainer, and `done()` to end a redrawn line before other output. */
export function progressBar(sink: Sink): { update: (p: Progress) => void; done: () => void } {
  let open = false;
  return {
    update(p) {
      if (sink.isTTY) {
        sink.write(`\r${formatProgress(p)}\x1b[K`);
        open = true;
      } else sink.write(`${formatProgress(p)}\n`);
    },
    done() {
      if (open) sink.write("\n");
      open = false;
    },
  };
}
