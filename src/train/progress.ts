/**
 * The per-epoch progress line on stderr: redrawn in place with \r on a
 * terminal, fitted to its width (a line that wraps cannot be redrawn, so it
 * would scroll); on a pipe or log file, one line per update (the trainer
 * sends about ten per epoch then) so logs stay short.
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
  /** The terminal's width (Node's stream.columns). */
  columns?: number;
  write(s: string): unknown;
}

const BAR = 24;

/** The progress line in at most `width` characters: the bar shrinks first (down to none), then the line is cut. */
export function formatProgress(p: Progress, width = Infinity): string {
  const w = String(p.batches).length;
  const head = `epoch ${String(p.epoch).padStart(String(p.epochs).length)}/${p.epochs} `;
  const tail = `${String(p.batch).padStart(w)}/${p.batches}  ${Math.round(p.examplesPerSecond).toString().padStart(6)} ex/s  loss ${p.loss.toFixed(4)}`;
  const room = Math.min(BAR, width - head.length - tail.length - 3);
  if (room < 4) return (head + tail).slice(0, Math.max(0, width));
  const filled = Math.round((room * p.batch) / p.batches);
  return `${head}[${"#".repeat(filled)}${"-".repeat(room - filled)}] ${tail}`;
}

/** A progress callback for the trainer, and `done()` to end a redrawn line before other output. */
export function progressBar(sink: Sink): { update: (p: Progress) => void; done: () => void } {
  let open = false;
  return {
    update(p) {
      if (sink.isTTY) {
        // One column spare: a line that fills the last column makes some terminals wrap.
        sink.write(`\r${formatProgress(p, (sink.columns ?? 80) - 1)}\x1b[K`);
        open = true;
      } else sink.write(`${formatProgress(p)}\n`);
    },
    done() {
      if (open) sink.write("\n");
      open = false;
    },
  };
}
