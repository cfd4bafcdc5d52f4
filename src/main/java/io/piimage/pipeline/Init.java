package io.piimage.pipeline;

import io.piimage.plan.PlanFormat;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Helpers of {@code piimage init}: finding the user's public SSH keys. */
public final class Init {

    private Init() {
    }

    /** The user's {@code ~/.ssh}. */
    public static Path defaultSshDirectory() {
        return Path.of(System.getProperty("user.home"), ".ssh");
    }

    /** The public keys in {@code dir/*.pub}, in file-name order; unreadable or non-key files are skipped. */
    public static List<String> publicKeys(Path dir) {
        List<Path> files = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.pub")) {
            stream.forEach(files::add);
        } catch (IOException e) {
            return List.of();
        }
        files.sort(null);
        List<String> keys = new ArrayList<>();
        for (Path file : files) {
            keys.addAll(keysIn(file));
        }
        return keys.stream().distinct().toList();
    }

    /**
     * The keys in a file (one per line, as authorized_keys and .pub files hold them) that the plan accepts:
     * the loader's own rule, so a key init writes is never one check refuses (an ssh-dss key, a cut one).
     */
    public static List<String> keysIn(Path file) {
        try {
            return Files.readAllLines(file).stream().map(String::strip).filter(Init::isPublicKey).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    public static boolean isPublicKey(String text) {
        return !text.isBlank() && PlanFormat.sshKeyProblem(text.strip()) == null;
    }
}
