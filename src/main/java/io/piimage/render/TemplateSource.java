package io.piimage.render;

import io.piimage.util.Quoting;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 *
 * <p>A user's directory may hold no symbolic links: a link would put whatever it points at (say
 * {@code /etc/passwd}) on every card, so it is refused rather than followed. The names of overlay files
 * become paths on the nodes and must be names cloud-init can write ({@link WriteFile#pathProblem}).
 */
public final class TemplateSource {

    static final String PACKAGED_ROOT = "piimage/templates/";

    /** Files of an overlay's root that describe the overlay instead of being installed on the node. */
    static final java.util.Set<String> RESERVED = java.util.Set.of("index", "packages");

    private final Path overrideDir;
    /**
     * Texts already read, by name: every node of a bake reads the same overlay files, indexes and
     * package lists, and reading one from the jar costs a zip lookup and inflation each time.
     */
    private final java.util.Map<String, Optional<String>> texts = new java.util.concurrent.ConcurrentHashMap<>();

    private TemplateSource(Path overrideDir) {
        this.overrideDir = overrideDir;
    }

    public static TemplateSource packaged() {
        return new TemplateSource(null);
    }

    /**
     * Templates from {@code dir} first, then the packaged ones. The whole directory is checked here,
     * before anything is rendered or written.
     *
     * @throws IllegalArgumentException naming the file, if the directory is missing, holds a symbolic
     *                                  link, or an overlay file whose name cannot be a node's path
     */
    public static TemplateSource withOverrides(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("templates directory " + dir + " does not exist");
        }
        // The directory itself may be a link (the user named it); nothing inside it may.
        try (Stream<Path> walk = Files.walk(dir.toRealPath())) {
            Path root = dir.toRealPath();
            for (Path p : (Iterable<Path>) walk::iterator) {
                String name = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    throw new IllegalArgumentException("templates directory " + dir + ": " + Quoting.yaml(name)
                            + " is a symbolic link; links are not followed (they could put any file of this"
                            + " machine on the cards): copy the file in instead");
                }
                if (name.startsWith("overlays/")) {
                    WriteFile.pathProblem(name).ifPresent(problem -> {
                        throw new IllegalArgumentException("templates directory " + dir + ": the name of "
                                + Quoting.yaml(name) + " " + problem + "; cloud-init cannot write such a"
                                + " file on the node: rename it");
                    });
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalArgumentException("templates directory " + dir + " cannot be read: " + e.getMessage(), e);
        }
        return new TemplateSource(dir);
    }

    public Optional<Path> overrideDir() {
        return Optional.ofNullable(overrideDir);
    }

    /**
     * The text of a template, e.g. "cloud-init/user-data.ftl"; empty when it exists nowhere. A name is
     * read once per source, so one bake sees one version of each file.
     */
    public Optional<String> read(String name) {
        Optional<String> text = texts.get(name);
        if (text == null) {
            text = readOnce(name);
            texts.putIfAbsent(name, text);
        }
        return text;
    }

    private Optional<String> readOnce(String name) {
        try {
            if (overrideDir != null) {
                Path file = overrideDir.resolve(name);
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    // NOFOLLOW: a link put in after the check above is an error, not followed.
                    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                        return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
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
                    walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
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
