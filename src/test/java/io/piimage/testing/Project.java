package io.piimage.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths inside the repository (Surefire passes its root), for example plans and scripts. */
public final class Project {

    private Project() {
    }

    public static Path root() {
        return Path.of(System.getProperty("piimage.projectRoot", ".")).toAbsolutePath().normalize();
    }

    public static Path example(String name) {
        return root().resolve("examples").resolve(name);
    }

    /** Copies an example plan into {@code dir} so its default secrets directory lands there too. */
    public static Path copyExample(String name, Path dir) {
        try {
            return Files.copy(example(name), dir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
