package io.piimage.sink;

import io.piimage.util.FileTrees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of a bake's temporary files, and the removal of those a killed bake left behind. Every name
 * carries its writer: host, process id and the process's start time ({@code .out.tmp-pi.4711.1767225600-9f3a..}),
 * so a later bake can prove the writer is gone (no such process on this host, or another process that
 * started at another time under a reused id) before it deletes anything. A name it cannot read, or a
 * writer on another host, is never deleted.
 */
public final class Leftovers {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern TAG = Pattern.compile("([a-z0-9-]+)\\.(\\d+)\\.(\\d+)-[0-9a-f]+.*");
    private static final String HOST = host();
    private static final String OWN_TAG = tag(ProcessHandle.current());

    private Leftovers() {
    }

    /** What a sweep found: removed (the writer is gone) and unknown (cannot tell: kept, the operator decides). */
    public record Sweep(List<Path> removed, List<Path> unknown) {
        public Sweep {
            removed = List.copyOf(removed);
            unknown = List.copyOf(unknown);
        }
    }

    /** The tag of a process on this host, {@code host.pid.start}, as the names of its temporary files carry it. */
    public static String tag(ProcessHandle process) {
        return HOST + "." + process.pid() + "." + startSeconds(process);
    }

    /** {@code prefix} + this process's tag + a random part: unique, and traceable to this process. */
    public static String name(String prefix) {
        byte[] random = new byte[6];
        RANDOM.nextBytes(random);
        return prefix + OWN_TAG + "-" + HexFormat.of().formatHex(random);
    }

    /** The hidden temporary names piimage makes beside an output {@code target}, as name prefixes. */
    public static List<String> prefixesBeside(Path target) {
        String name = target.toAbsolutePath().normalize().getFileName().toString();
        return List.of("." + name + ".tmp-", "." + name + ".old-", ".piimage-base-", ".piimage-images-");
    }

    /**
     * Deletes entries of {@code dir} named by one of {@code prefixes} whose writer is provably gone;
     * lists those whose writer cannot be told (names from an older piimage).
     */
    public static Sweep sweep(Path dir, List<String> prefixes) throws IOException {
        List<Path> removed = new ArrayList<>();
        List<Path> unknown = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return new Sweep(removed, unknown);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                Optional<String> prefix = prefixes.stream().filter(name::startsWith).findFirst();
                if (prefix.isEmpty()) {
                    continue;
                }
                Matcher tag = TAG.matcher(name.substring(prefix.get().length()));
                if (!tag.matches()) {
                    unknown.add(entry);
                } else if (tag.group(1).equals(HOST) && !alive(Long.parseLong(tag.group(2)), Long.parseLong(tag.group(3)))) {
                    FileTrees.delete(entry);
                    removed.add(entry);
                }
            }
        }
        removed.sort(null);
        unknown.sort(null);
        return new Sweep(removed, unknown);
    }

    /** Whether the process {@code pid} that started at {@code startSeconds} (0: unknown) still runs here. */
    static boolean alive(long pid, long startSeconds) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty() || !process.get().isAlive()) {
            return false;
        }
        long started = startSeconds(process.get());
        // An id reused by a process that started at another time is not the writer; unknown times count as alive.
        return startSeconds == 0 || started == 0 || Math.abs(started - startSeconds) <= 2;
    }

    /** A process's start, in seconds since the epoch; 0 when the system does not say. */
    static long startSeconds(ProcessHandle process) {
        return process.info().startInstant().map(Instant::getEpochSecond).orElse(0L);
    }

    /** "process 4711 on pi" for a name made by {@link #name}("") elsewhere, if it is one. */
    static Optional<String> writer(String token) {
        Matcher tag = TAG.matcher(token);
        return tag.matches() ? Optional.of("process " + tag.group(2) + " on " + tag.group(1)) : Optional.empty();
    }

    private static String host() {
        String name;
        try {
            name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            name = System.getenv().getOrDefault("HOSTNAME", "");
        }
        name = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        if (name.length() > 40) {
            name = name.substring(0, 40);
        }
        return name.isEmpty() ? "localhost" : name;
    }
}
