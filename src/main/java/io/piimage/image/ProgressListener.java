package io.piimage.image;

/** Progress of a long image operation, reported instead of printed; called from the working thread. */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = (done, total) -> { };

    /**
     * @param bytesDone  bytes processed so far
     * @param bytesTotal total bytes, or -1 if unknown (a stream of unknown length)
     */
    void progress(long bytesDone, long bytesTotal);
}
