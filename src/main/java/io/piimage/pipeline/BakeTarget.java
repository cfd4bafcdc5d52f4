package io.piimage.pipeline;

import io.piimage.sink.ArchiveSink;
import io.piimage.sink.DirectorySink;
import io.piimage.sink.Sink;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a bake writes, chosen once: a directory of seed files, the same files in one archive, or a
 * directory that also gets every node's whole card image. Node images exist only with a directory,
 * so an archive with images cannot even be asked for.
 *
 * <p>A {@code null} path of a directory (with or without images) means the default {@code ./out/<cluster
 * name>}, known once the plan is read.
 */
public sealed interface BakeTarget {

    /** The output, or null for the default directory. */
    Path path();

    /** The seed files and admin.conf in a directory. */
    record Directory(Path path) implements BakeTarget {
    }

    /** The same files in one {@code .tar.gz}/{@code .tgz}/{@code .zip}. */
    record Archive(Path path, ArchiveSink.Format format) implements BakeTarget {
        public Archive {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(format, "format");
        }
    }

    /**
     * A directory as {@link Directory}, plus {@code <node>.img[.xz|.gz]} and its bmap per node made
     * from {@code base}, and the Imager manifest; {@code profile} forces the base's image profile.
     */
    record NodeImages(Path path, Path base, Compression compression, Optional<String> profile) implements BakeTarget {
        public NodeImages {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(compression, "compression");
            Objects.requireNonNull(profile, "profile");
        }
    }

    /** A directory, or an archive when the name ends .tar.gz, .tgz or .zip; null: the default directory. */
    static BakeTarget at(Path output) {
        if (output == null) {
            return new Directory(null);
        }
        Optional<ArchiveSink.Format> format = ArchiveSink.Format.forPath(output);
        return format.<BakeTarget>map(f -> new Archive(output, f)).orElseGet(() -> new Directory(output));
    }

    /**
     * Node images into {@code output} (null: the default directory); refused when the name asks for an
     * archive, which cannot hold images.
     */
    static NodeImages nodeImages(Path output, Path base, Compression compression, String profile) {
        if (output != null && ArchiveSink.Format.forPath(output).isPresent()) {
            throw new IllegalArgumentException("--base-image writes <node>.img files into a directory; " + output
                    + " is an archive: give a directory with -o");
        }
        return new NodeImages(output, base, compression, Optional.ofNullable(profile));
    }

    /** The sink that writes this target's files at {@code resolved} (the path, or the default directory). */
    default Sink sink(Path resolved) {
        if (this instanceof Archive archive) {
            return new ArchiveSink(resolved, archive.format());
        }
        return new DirectorySink(resolved);
    }
}
