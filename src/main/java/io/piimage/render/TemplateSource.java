package io.piimage.render;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where templates come from: the copies packaged in the jar, or a user's directory given with
 * {@code --templates} whose files take precedence (a missing file falls back to the packaged one, so a
 * user overrides only what they change).
 *
 * <p>The jar cannot be listed cheaply, so each packaged tree ships an {@code index} file naming its
 * templates; a user's directory is listed directly.
 */
public final class TemplateSource {

    static final String PACKAGED_ROOT = "piimage/templates/";

    /** Files of an overlay's root that describe the overlay instead of being installed on the node. */
    static final java.util.Set<String> RESERVED = java.util.Set.of("index", "packages");

    private final Path overrideDir;

    private TemplateSource(Path overrideDir) {
        this.overrideDir = overrideDir;
    }

    public static TemplateSource packaged() {
        return new TemplateSource(null);
    }

    /** Templates from {@code dir} first, then the packaged ones. */
    public static TemplateSource withOverrides(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("templates directory " + dir + " does not exist");
        }
        return new TemplateSource(dir);
    }

    public Optional<Path> overrideDir() {
        return Optional.ofNullable(overrideDir);
    }

    /** The text of a template, e.g. "cloud-init/user-data.ftl"; empty when it exists nowhere. */
    public Optional<String> read(String name) {
        try {
            if (overrideDir != null) {
                Path file = overrideDir.resolve(name);
                if (Files.isRegularFile(file)) {
                    return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
                }
            }
            try (InputStream in = TemplateSource.class.getClassLoader().getResourceAsStream(PACKAGED_ROOT + name)) {
                return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read template " + name, e);
        }
    }

    /**
     * The template names under a tree such as "overlays/control-plane", relative to it, sorted: the
     * packaged index merged with the files of the override directory.
     */
    public List<String> list(String tree) {
        var names = new java.util.TreeSet<String>();
        read(tree + "/index").ifPresent(index -> index.lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#") && !RESERVED.contains(line))
                .forEach(names::add));
        if (overrideDir != null) {
            Path root = overrideDir.resolve(tree);
            if (Files.isDirectory(root)) {
                try (Stream<Path> walk = Files.walk(root)) {
                    walk.filter(Files::isRegularFile)
                            .map(p -> root.relativize(p).toString().replace('\\', '/'))
                            .filter(n -> !RESERVED.contains(n))
                            .forEach(names::add);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot list " + root, e);
                }
            }
        }
        return new ArrayList<>(names);
    }
}
