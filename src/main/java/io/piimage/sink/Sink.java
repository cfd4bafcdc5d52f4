package io.piimage.sink;

import io.piimage.render.FileTree;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a bake's files go. Every sink is all-or-nothing: on failure the target is left as it was
 * (absent, or the previous bake's output), never half-written. A bake checks the target first, stages
 * the files beside it (where a full disk shows), and only then commits them with a rename.
 */
public interface Sink {

    /** Writes the tree, replacing an earlier bake's output at the same place. */
    default void write(FileTree tree) throws IOException {
        try (Staged staged = stage(tree)) {
            staged.commit();
        }
    }

    /** Refuses a target this sink would never replace, before anything is written. */
    void check() throws IOException;

    /** Writes the tree to a hidden sibling of the target; nothing is visible until {@link Staged#commit()}. */
    Staged stage(FileTree tree) throws IOException;

    Path target();

    /** Staged files: {@link #commit()} puts them in place; {@link #close()} deletes whatever was not committed. */
    interface Staged extends AutoCloseable {
        void commit() throws IOException;

        @Override
        void close();
    }

    /** A directory, or a {@code .tar.gz}/{@code .tgz}/{@code .zip} archive, chosen by the name. */
    static Sink forPath(Path target) {
        return ArchiveSink.Format.forPath(target).<Sink>map(format -> new ArchiveSink(target, format))
                .orElseGet(() -> new DirectorySink(target));
    }
}
