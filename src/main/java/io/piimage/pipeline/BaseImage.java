package io.piimage.pipeline;

import io.piimage.image.Bmap;
import io.piimage.image.CompressedBase;
import io.piimage.image.DataMap;
import io.piimage.image.Fat32Volume;
import io.piimage.image.ImageException;
import io.piimage.image.ImageProfile;
import io.piimage.image.ImageProfiles;
import io.piimage.image.MbrPartitionTable;
import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.sink.Leftovers;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The base of a bake's node images: the image the user gave (raw {@code .img}, or {@code .img.xz},
 * {@code .img.gz}, {@code .zip} decompressed once to a hidden temp file beside the output), recognised
 * by its boot partition's label, with its data map (read once, shared by every node's copy) and the
 * SHA-256s of its bmap ranges (shared likewise). {@link #close()} deletes the decompressed copy.
 */
final class BaseImage implements AutoCloseable {

    private final Path source;
    private final Path raw;
    private final boolean rawIsTemp;
    private final ImageProfile profile;
    private final List<String> labels;
    private final DataMap data;
    private final Bmap.Hashes hashes;

    private BaseImage(Path source, Path raw, boolean rawIsTemp, ImageProfile profile, List<String> labels, DataMap data) {
        this.source = source;
        this.raw = raw;
        this.rawIsTemp = rawIsTemp;
        this.profile = profile;
        this.labels = List.copyOf(labels);
        this.data = data;
        this.hashes = new Bmap.Hashes(raw);
    }

    /** The file the user gave. */
    Path source() {
        return source;
    }

    /** The raw image copies are made from: {@link #source()}, or its decompressed temp copy. */
    Path raw() {
        return raw;
    }

    ImageProfile profile() {
        return profile;
    }

    /** The boot partition labels a node's changes may go to. */
    List<String> labels() {
        return labels;
    }

    DataMap data() {
        return data;
    }

    Bmap.Hashes hashes() {
        return hashes;
    }

    /**
     * Decompresses the base if needed (once), recognises its profile (or takes {@code forcedProfile}) and
     * checks every node of the plan wants that profile. Nothing but a hidden temp file is written.
     * {@code xz} (xz-utils) must be installed for {@code .xz} input.
     */
    static BaseImage open(Path base, Path workDir, ImageProfiles profiles, Optional<String> forcedProfile, Plan plan,
                          Consumer<BakeEvent> events) throws BakeException, IOException {
        if (!Files.isRegularFile(base)) {
            throw new BakeException("base image " + base + " does not exist");
        }
        Files.createDirectories(workDir);
        ImageProfile forced = null;
        if (forcedProfile.isPresent()) {
            String name = forcedProfile.get();
            forced = profiles.find(name).orElseThrow(() -> new BakeException("unknown image profile '"
                    + name + "'; known: " + String.join(", ", profiles.names())));
        }
        Raw decompressed = decompress(base, workDir, events);
        Path raw = decompressed.path();
        boolean temp = !raw.equals(base);
        try {
            Recognised recognised = recognise(raw, base, profiles, forced);
            List<String> wrong = new ArrayList<>();
            for (Node node : plan.nodes()) {
                if (!plan.imageOf(node).equals(recognised.profile.name())) {
                    wrong.add(node.name() + " (" + plan.imageOf(node) + ")");
                }
            }
            if (!wrong.isEmpty()) {
                throw new BakeException("the base image " + base.getFileName() + " is " + recognised.profile.name()
                        + " (" + recognised.how + ") but the plan wants another image for " + String.join(", ", wrong)
                        + "; use a matching base image, or set os.image/the node's image to "
                        + recognised.profile.name());
            }
            events.accept(new BakeEvent.BaseImageRecognised(base, recognised.profile.name(), recognised.how));
            DataMap data = decompressed.data();
            if (data == null) {
                data = DataMap.scan(raw); // once: every node's copy moves only these runs
            }
            return new BaseImage(base, raw, temp, recognised.profile, recognised.labels, data);
        } catch (BakeException | IOException | RuntimeException e) {
            if (temp) {
                Files.deleteIfExists(raw);
            }
            throw e;
        }
    }

    /** Deletes the decompressed copy, if one was made. */
    @Override
    public void close() throws IOException {
        if (rawIsTemp) {
            Files.deleteIfExists(raw);
        }
    }

    private record Recognised(ImageProfile profile, List<String> labels, String how) {
    }

    private static Recognised recognise(Path raw, Path base, ImageProfiles profiles, ImageProfile forced)
            throws IOException, BakeException {
        List<String> found = new ArrayList<>();
        List<String> fatLabels = new ArrayList<>();
        try (FileChannel in = FileChannel.open(raw, StandardOpenOption.READ)) {
            MbrPartitionTable table;
            try {
                table = MbrPartitionTable.read(in);
            } catch (ImageException e) {
                throw new BakeException("base image " + base + " is not a Raspberry Pi image: " + e.getMessage(), e);
            }
            for (MbrPartitionTable.Partition p : table.partitions()) {
                String type = Fat32Volume.identify(in, p.byteOffset());
                Optional<String> label = Fat32Volume.bootSectorLabel(in, p.byteOffset());
                found.add(p + " " + type + label.map(l -> " '" + l + "'").orElse(""));
                if (type.equals("FAT32") && label.isPresent()) {
                    fatLabels.add(label.get());
                    if (forced == null) {
                        for (String name : profiles.names()) {
                            ImageProfile candidate = profiles.get(name);
                            if (candidate.bootLabel().equalsIgnoreCase(label.get())) {
                                return new Recognised(candidate, List.of(candidate.bootLabel()),
                                        "boot partition p" + p.number() + " labelled '" + label.get() + "'");
                            }
                        }
                    }
                }
            }
        }
        if (forced != null) {
            List<String> labels = new ArrayList<>(List.of(forced.bootLabel()));
            labels.addAll(fatLabels);
            return new Recognised(forced, labels, "--image-profile");
        }
        List<String> known = new ArrayList<>();
        for (String name : profiles.names()) {
            known.add("'" + profiles.get(name).bootLabel() + "' (" + name + ")");
        }
        throw new BakeException("base image " + base + " matches no image profile: found "
                + (found.isEmpty() ? "no partitions" : String.join(", ", found)) + "; expected a FAT32 boot partition labelled "
                + String.join(" or ", known) + " (--image-profile NAME forces a profile)");
    }

    /** The raw image to copy from, and where its data is (null for a base used as it is: scanned later). */
    private record Raw(Path path, DataMap data) {
    }

    private static Raw decompress(Path base, Path workDir, Consumer<BakeEvent> events)
            throws IOException, BakeException {
        String name = base.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".xz") && !name.endsWith(".gz") && !name.endsWith(".zip")) {
            return new Raw(base, null);
        }
        long started = System.nanoTime();
        Path temp = Files.createTempFile(workDir, Leftovers.name(".piimage-base-"), ".img");
        boolean ok = false;
        try (RandomAccessFile out = new RandomAccessFile(temp.toFile(), "rw")) {
            DataMap data;
            if (name.endsWith(".xz")) {
                // xz writes holes itself (--sparse is its default into a file); piping 2 GiB of zeros
                // through us instead cost 4 s of system time here. Mapped by a scan afterwards.
                CompressedBase.refuseEmpty(base, "xz");
                XzCommand.decompress(base, temp);
                data = DataMap.scan(temp);
            } else if (name.endsWith(".gz")) {
                data = CompressedBase.gunzip(base, out);
            } else {
                data = CompressedBase.unzip(base, out); // CRC-32 and sizes verified, as unzip -t does
            }
            events.accept(new BakeEvent.BaseImageDecompressed(base, temp, data.size(),
                    (System.nanoTime() - started) / 1_000_000));
            ok = true;
            return new Raw(temp, data);
        } catch (ImageException e) {
            throw new BakeException(e.getMessage(), e);
        } finally {
            if (!ok) {
                Files.deleteIfExists(temp);
            }
        }
    }
}
