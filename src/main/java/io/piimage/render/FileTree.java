package io.piimage.render;

import java.util.Collection;
import java.util.Collections;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An immutable set of files keyed by relative path, iterated in path order so every sink writes the
 * same bytes in the same order on every bake.
 */
public final class FileTree {

    private final TreeMap<String, NodeFile> files;

    private FileTree(TreeMap<String, NodeFile> files) {
        this.files = files;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Collection<NodeFile> files() {
        return Collections.unmodifiableCollection(files.values());
    }

    public Optional<NodeFile> file(String path) {
        return Optional.ofNullable(files.get(path));
    }

    public int size() {
        return files.size();
    }

    public long totalBytes() {
        return files.values().stream().mapToLong(NodeFile::size).sum();
    }

    public static final class Builder {
        private final TreeMap<String, NodeFile> files = new TreeMap<>();

        private Builder() {
        }

        /** Adds a file; a second file at the same path is a programming or template error. */
        public Builder add(NodeFile file) {
            if (files.putIfAbsent(file.path(), file) != null) {
                throw new IllegalStateException("two files for path '" + file.path() + "'");
            }
            return this;
        }

        public Builder addAll(Iterable<NodeFile> more) {
            more.forEach(this::add);
            return this;
        }

        public FileTree build() {
            return new FileTree(new TreeMap<>(files));
        }
    }
}
