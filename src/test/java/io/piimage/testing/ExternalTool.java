package io.piimage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Real tools the tests drive (openssl, cloud-init, haproxy, ...). A missing tool fails the test when
 * {@code PIIMAGE_REQUIRE_TOOLS=1} (CI) and otherwise skips it with a visible reason.
 */
public final class ExternalTool {

    private static final List<String> EXTRA_PATH = List.of("/usr/sbin", "/sbin", "/usr/local/sbin");

    private ExternalTool() {
    }

    public record ProcessResult(int exitCode, String stdout, String stderr) {
        public String output() {
            return stdout + stderr;
        }
    }

    public static boolean required() {
        return "1".equals(System.getenv("PIIMAGE_REQUIRE_TOOLS"));
    }

    /** The tool's path; fails or skips (see class doc) when it is not installed. */
    public static Path require(String name) {
        return find(name).orElseGet(() -> {
            String reason = "needs '" + name + "' (installed by .ci/run); skipped";
            if (required()) {
                fail("PIIMAGE_REQUIRE_TOOLS=1 but " + reason.replace("; skipped", ""));
            }
            Assumptions.abort(reason);
            return null;
        });
    }

    /** Fails (PIIMAGE_REQUIRE_TOOLS=1) or skips the test: {@code what} is not on this machine. */
    public static void missing(String what) {
        if (required()) {
            fail("PIIMAGE_REQUIRE_TOOLS=1 but this test needs " + what);
        }
        Assumptions.abort("needs " + what + "; skipped");
    }

    /** Fails or skips unless the tests run as root (network namespaces need it). */
    public static void requireRoot() {
        requireRoot("network namespaces");
    }

    /** Fails or skips unless the tests run as root, for {@code what}. */
    public static void requireRoot(String what) {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!root) {
            if (required()) {
                fail("PIIMAGE_REQUIRE_TOOLS=1 but this test needs root (" + what + ")");
            }
            Assumptions.abort("needs root for " + what + "; skipped");
        }
    }

    public static java.util.Optional<Path> find(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        java.util.List<String> dirs = new java.util.ArrayList<>(List.of(path.split(":")));
        dirs.addAll(EXTRA_PATH);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return java.util.Optional.of(candidate);
            }
        }
        return java.util.Optional.empty();
    }

    public static ProcessResult run(Duration timeout, List<String> command, Path dir) {
        return run(timeout, command, dir, null);
    }

    /** Runs a command to completion (killed after {@code timeout}), feeding {@code stdin} if given. */
    public static ProcessResult run(Duration timeout, List<String> command, Path dir, byte[] stdin) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command);
            if (dir != null) {
                builder.directory(dir.toFile());
            }
            Process process = builder.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(process.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(process.getErrorStream()));
            try (var in = process.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin);
                }
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                fail("timed out after " + timeout + ": " + String.join(" ", command));
            }
            return new ProcessResult(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The last {@code count} lines of a tool's output, for a failure message. */
    public static String lastLines(String output, int count) {
        String[] lines = output.split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - count), lines.length));
    }

    private static String drain(InputStream stream) {
        try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
