package io.piimage.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The raw scan of a card after its first boot, as someone holding the card could read it: every byte of
 * the boot partition (used and free clusters, FATs, directories) and every byte of the root partition
 * outside the blocks of the files where a secret belongs (freed blocks of cloud-init's copies would
 * show up there). Read from the powered-off image with debugfs; nothing is mounted.
 */
public final class CardSecretScan {

    /** The files on the root file system where a secret belongs: their blocks are the only place it may be. */
    public static final List<String> SECRET_HOMES = List.of("/etc/keepalived/keepalived.conf",
            "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ecdsa_key");

    private CardSecretScan() {
    }

    /**
     * What must not survive on the cards of {@code nodes} outside their real files, by name: the VRRP
     * password and the private sections of each node's SSH host keys, read from the secrets directory.
     */
    public static Map<String, List<String>> secretsOf(Path secretsDir, List<String> nodes) throws IOException {
        Map<String, List<String>> secrets = new TreeMap<>();
        secrets.put("the VRRP password", List.of(Files.readString(secretsDir.resolve("vrrp-password")).strip()));
        for (String node : nodes) {
            for (String type : List.of("ed25519", "ecdsa")) {
                Path key = secretsDir.resolve("ssh").resolve(node).resolve("ssh_host_" + type + "_key");
                assertThat(key).as("%s's %s host key in the secrets directory", node, type).isRegularFile();
                // The key file's base64 lines after the first two (magic, public key) encode the private section.
                List<String> lines = Files.readAllLines(key).stream().filter(l -> !l.startsWith("-----")).toList();
                // The private section repeats the public key: a line that the public half (base64 in the
                // .pub file, which belongs on the card) also holds is no sign of a leaked private key.
                String publicHalf = Files.readString(Path.of(key + ".pub"));
                secrets.put(node + "'s " + type + " host key", lines.subList(2, lines.size() - 1).stream()
                        .filter(line -> !publicHalf.contains(line)).toList());
            }
        }
        return secrets;
    }

    /** Every secret found where it must not be on {@code img}, with where; empty when the card is clean. */
    public static List<String> leftOvers(Path img, long bootOffset, long bootLength, long rootOffset, long rootLength,
            Map<String, List<String>> secrets) throws IOException {
        String root = img + "?offset=" + rootOffset;
        long blockSize = Long.parseLong(matchOne(debugfs(root, "stats"), "Block size:\\s+(\\d+)"));
        Set<Long> homes = new HashSet<>();
        for (String home : SECRET_HOMES) {
            ProcessResult blocks = debugfsRun(root, "blocks " + home);
            // A gateway has no keepalived.conf: a home that is not there holds nothing.
            if (blocks.stderr().contains("File not found")) {
                continue;
            }
            for (String block : blocks.stdout().trim().split("\\s+")) {
                if (!block.isEmpty()) {
                    homes.add(Long.parseLong(block));
                }
            }
        }
        List<String> found = new ArrayList<>();
        for (Hit hit : scan(img, bootOffset, bootLength, secrets)) {
            found.add(hit.what() + " on the boot partition at byte " + hit.offset());
        }
        for (Hit hit : scan(img, rootOffset, rootLength, secrets)) {
            long block = hit.offset() / blockSize;
            if (!homes.contains(block)) {
                found.add(hit.what() + " on the root partition in block " + block + ": " + whoOwns(root, block));
            }
        }
        return found;
    }

    /** Runs one debugfs request on an ext4 file system ({@code image?offset=N}) read-only; fails loudly. */
    public static String debugfs(String device, String request) {
        ProcessResult r = debugfsRun(device, request);
        assertThat(r.stderr()).as("debugfs %s on %s", request, device).doesNotContain("File not found");
        return r.stdout();
    }

    /** One debugfs request; fails loudly only if the file system cannot be opened. */
    private static ProcessResult debugfsRun(String device, String request) {
        // -c: a card whose plug was pulled has its last writes in the journal, and its on-disk bitmaps may
        // not match their checksums until a mount replays it; debugfs then refuses to open the file system
        // unless told not to read the bitmaps (which nothing here needs: icheck reads the inode tables).
        List<String> cmd = new ArrayList<>(List.of("debugfs", "-c", "-R", request, device));
        ProcessResult r = ExternalTool.run(Duration.ofSeconds(60), cmd, null);
        assertThat(r.exitCode()).as("%s\n%s", cmd, r.output()).isZero();
        assertThat(r.stderr()).as("%s", cmd).doesNotContain("Filesystem not open");
        return r;
    }

    /** The path that owns an ext4 block, or that it is free. */
    private static String whoOwns(String root, long block) {
        Matcher inode = Pattern.compile("(?m)^" + block + "\\s+(\\d+)").matcher(debugfs(root, "icheck " + block));
        if (!inode.find()) {
            return "a free block";
        }
        String names = debugfs(root, "ncheck " + inode.group(1)).strip();
        return "inode " + inode.group(1) + " " + names.substring(names.indexOf('\n') + 1);
    }

    private static String matchOne(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("/%s/ in\n%s", regex, text).isTrue();
        return m.group(1);
    }

    record Hit(String what, long offset) {
    }

    /** A byte-for-byte search of a region of a file, in 8 MiB windows that overlap by the longest needle. */
    static List<Hit> scan(Path file, long offset, long length, Map<String, List<String>> needles) throws IOException {
        int longest = needles.values().stream().flatMap(List::stream).mapToInt(String::length).max().orElse(1);
        List<Hit> hits = new ArrayList<>();
        int window = 8 << 20;
        try (FileChannel channel = FileChannel.open(file)) {
            ByteBuffer buffer = ByteBuffer.allocate(window + longest);
            for (long start = 0; start < length; start += window) {
                buffer.clear();
                buffer.limit((int) Math.min(buffer.capacity(), length - start));
                while (buffer.hasRemaining() && channel.read(buffer, offset + start + buffer.position()) > 0) {
                    // read the whole window
                }
                // ISO-8859-1 maps each byte to one char, so indexes are byte offsets.
                String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1);
                for (Map.Entry<String, List<String>> secret : needles.entrySet()) {
                    for (String needle : secret.getValue()) {
                        for (int i = text.indexOf(needle); i >= 0 && i < window; i = text.indexOf(needle, i + 1)) {
                            hits.add(new Hit(secret.getKey() + " (\"" + needle.substring(0, Math.min(12, needle.length()))
                                    + "...\")", start + i));
                        }
                    }
                }
            }
        }
        return hits;
    }
}
