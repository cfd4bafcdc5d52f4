package io.piimage.image;

import java.util.ArrayList;
import java.util.List;

/**
 * The byte ranges written into a node image on top of the base's data: a node's boot partition gets
 * new clusters where the base had zeros (holes in its {@link DataMap}), and its bmap must map them.
 * {@link BootPartitionInjector} adds the ranges of the node's changes as it writes them.
 */
public final class BmapWrites {

    private final List<long[]> ranges = new ArrayList<>();

    /** The ranges written so far, as {start, end} (end exclusive), in the order written. */
    public synchronized List<long[]> ranges() {
        return List.copyOf(ranges);
    }

    synchronized void add(long start, long end) {
        if (end > start) {
            ranges.add(new long[] {start, end});
        }
    }
}
