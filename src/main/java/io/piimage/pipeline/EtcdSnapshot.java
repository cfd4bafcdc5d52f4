package io.piimage.pipeline;

import io.piimage.status.TlsIdentity;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An etcd snapshot taken from the operator's machine, without etcdctl: etcd's JSON gateway streams
 * {@code POST /v3/maintenance/snapshot} as one JSON object per line, each with a base64 chunk of the
 * file ({@code result.blob}), or an {@code error} object if the stream fails midway. The file is the
 * bbolt database followed by the SHA-256 of it (what {@code etcdctl snapshot save} checks too). It is
 * written under a temporary name beside the target, checked, forced to disk and only then renamed
 * into place: a file under the target name is always a complete snapshot.
 */
public final class EtcdSnapshot {

    /** bbolt's meta page magic (little-endian at offset 16 of the first page): what every etcd database starts with. */
    private static final byte[] BBOLT_MAGIC = {(byte) 0xed, (byte) 0xda, 0x0c, (byte) 0xed};
    private static final Pattern BLOB = Pattern.compile("\"blob\"\\s*:\\s*\"([A-Za-z0-9+/=]*)\"");
    private static final int DIGEST = 32;

    private EtcdSnapshot() {
    }

    /** What a snapshot taken from {@code endpoint} holds: its size in bytes. */
    public record Taken(URI endpoint, long bytes) {
    }

    /**
     * Takes a snapshot from the first of {@code endpoints} (etcd client URLs) that sends a complete one,
     * and writes it to {@code output}. Each endpoint that fails is reported to {@code log}; when all fail
     * the exception names every reason, and nothing is left under {@code output} or beside it.
     */
    public static Taken take(List<URI> endpoints, TlsIdentity identity, Path output, Duration timeout, Consumer<String> log)
            throws IOException {
        HttpClient client = HttpClient.newBuilder().sslContext(identity.sslContext()).connectTimeout(timeout)
                .version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER).build();
        Path target = output.toAbsolutePath();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        List<String> failures = new ArrayList<>();
        for (URI endpoint : endpoints) {
            Path partial = Files.createTempFile(parent, "." + target.getFileName() + ".partial-", "",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                long bytes = download(client, endpoint, partial);
                String problem = problem(partial);
                if (problem != null) {
                    throw new IOException(problem);
                }
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                force(parent);
                return new Taken(endpoint, bytes);
            } catch (IOException e) {
                // A refused connection has no message of its own.
                String failure = endpoint + ": " + (e.getMessage() != null ? e.getMessage()
                        : e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName());
                failures.add(failure);
                log.accept(failure);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } finally {
                Files.deleteIfExists(partial);
            }
        }
        throw new IOException("no etcd member sent a snapshot (" + String.join("; ", failures) + ")");
    }

    private static long download(HttpClient client, URI endpoint, Path partial) throws IOException, InterruptedException {
        URI uri = endpoint.resolve("/v3/maintenance/snapshot");
        HttpRequest request = HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("{}"))
                .header("Content-Type", "application/json").build();
        HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        long bytes = 0;
        try (InputStream body = response.body();
                BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
                FileChannel channel = FileChannel.open(partial, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                OutputStream out = java.nio.channels.Channels.newOutputStream(channel)) {
            if (response.statusCode() != 200) {
                throw new IOException("HTTP " + response.statusCode() + ": " + abbreviate(new String(body.readNBytes(300), StandardCharsets.UTF_8)));
            }
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                if (line.contains("\"error\"")) {
                    throw new IOException("etcd failed the snapshot: " + abbreviate(line));
                }
                Matcher blob = BLOB.matcher(line);
                if (blob.find()) {
                    byte[] chunk = Base64.getDecoder().decode(blob.group(1));
                    out.write(chunk);
                    bytes += chunk.length;
                }
            }
            out.flush();
            channel.force(true);
        } catch (IllegalArgumentException e) {
            throw new IOException("etcd sent a chunk that is not base64: " + e.getMessage(), e);
        }
        return bytes;
    }

    /**
     * Why {@code file} is not a complete etcd snapshot, or null when it is: a bbolt database (its magic
     * where bbolt puts it) followed by the SHA-256 of everything before those last 32 bytes.
     */
    public static String problem(Path file) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return file + " is not a file";
        }
        long size = Files.size(file);
        if (size <= DIGEST + 20) {
            return file + " is not an etcd snapshot (" + size + " bytes)";
        }
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] head = new byte[20];
        byte[] trailer = new byte[DIGEST];
        try (InputStream in = Files.newInputStream(file)) {
            long left = size - DIGEST;
            byte[] buffer = new byte[1 << 16];
            boolean first = true;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    return file + " changed while it was read";
                }
                if (first) {
                    System.arraycopy(buffer, 0, head, 0, Math.min(n, head.length));
                    first = false;
                }
                sha256.update(buffer, 0, n);
                left -= n;
            }
            if (in.readNBytes(trailer, 0, DIGEST) != DIGEST) {
                return file + " changed while it was read";
            }
        }
        if (!Arrays.equals(Arrays.copyOfRange(head, 16, 20), BBOLT_MAGIC)) {
            return file + " is not an etcd snapshot (no bbolt database in it)";
        }
        if (!Arrays.equals(sha256.digest(), trailer)) {
            return file + " is not a complete etcd snapshot (its SHA-256 trailer does not match its contents)";
        }
        return null;
    }

    private static String abbreviate(String text) {
        String one = text.replaceAll("\\s+", " ").strip();
        return one.length() > 200 ? one.substring(0, 200) + "..." : one;
    }

    private static void force(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException ignored) {
            // Not every file system lets a directory be opened for fsync; the rename is still atomic.
        }
    }
}
