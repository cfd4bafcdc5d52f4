package io.piimage.cli;

import io.piimage.pipeline.BakeEvent;
import java.io.PrintStream;

/**
 * A one-line progress bar with MB/s for the node images being written (a few at once, so the bar counts
 * the bytes copied for all of them); only used on a terminal.
 */
final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream err;
    private long started = -1;
    private int written;
    private boolean drawn;

    ProgressBar(PrintStream err) {
        this.err = err;
    }

    void event(BakeEvent event) {
        if (event instanceof BakeEvent.ImageStarted && started < 0) {
            started = System.nanoTime();
        } else if (event instanceof BakeEvent.ImageWritten) {
            written++;
            clear(); // the command prints a line for the image; the next report redraws the bar below it
        } else if (event instanceof BakeEvent.ImageProgress progress) {
            draw(progress.done(), progress.total());
        }
    }

    private void draw(long done, long total) {
        double seconds = Math.max(1e-3, (System.nanoTime() - (started < 0 ? System.nanoTime() : started)) / 1e9);
        double mbps = done / 1e6 / seconds;
        StringBuilder line = new StringBuilder("\r").append(String.format("images (%d done) ", written));
        if (total > 0) {
            int filled = (int) (WIDTH * Math.min(1.0, (double) done / total));
            line.append('[').append("#".repeat(filled)).append(" ".repeat(WIDTH - filled)).append(']')
                    .append(String.format(" %3d%%", done * 100 / total));
        }
        line.append(String.format(" %,d MiB  %.0f MB/s ", done >> 20, mbps));
        err.print(line);
        err.flush();
        drawn = true;
    }

    private void clear() {
        if (drawn) {
            err.print("\r" + " ".repeat(80) + "\r");
            err.flush();
            drawn = false;
        }
    }
}
