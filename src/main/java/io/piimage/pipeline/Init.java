package io.piimage.pipeline;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Helpers of {@code piimage init}: finding the user's public SSH keys. */
public final class Init {

    private static final Pattern PUBLIC_KEY = Pattern.compile(
            "(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/]+=*( .*)?");

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

    /** The keys in a file (one per line, as authorized_keys and .pub files hold them). */
    public static List<String> keysIn(Path file) {
        try {
            return Files.readAllLines(file).stream().map(String::strip).filter(line -> PUBLIC_KEY.matcher(line).matches()).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    public static boolean isPublicKey(String text) {
        return PUBLIC_KEY.matcher(text.strip()).matches();
    }
}
