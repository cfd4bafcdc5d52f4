package io.piimage.sink;

import io.piimage.render.FileTree;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a bake's files go. Every sink is all-or-nothing: on failure the target is left as it was
 * (absent, or the previous bake's output), never half-written.
 */
public interface Sink {

    /** Writes the tree, replacing an earlier bake's output at the same place. */
    void write(FileTree tree) throws IOException;

    Path target();

    /** A directory, or a {@code .tar.gz}/{@code .tgz}/{@code .zip} archive, chosen by the name. */
    static Sink forPath(Path target) {
        String name = target.getFileName().toString();
        if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) {
            return new ArchiveSink(target, ArchiveSink.Format.TAR_GZ);
        }
        if (name.endsWith(".zip")) {
            return new ArchiveSink(target, ArchiveSink.Format.ZIP);
        }
        return new DirectorySink(target);
    }
}
