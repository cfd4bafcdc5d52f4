package io.piimage.pipeline;

import io.piimage.image.Bmap;
import io.piimage.image.BmapWrites;
import io.piimage.image.BootPartitionChanges;
import io.piimage.image.BootPartitionInjector;
import io.piimage.image.CmdlineTxt;
import io.piimage.image.CompressedBase;
import io.piimage.image.ConfigTxt;
import io.piimage.image.DataMap;
import io.piimage.image.Fat32Volume;
import io.piimage.image.ImageException;
import io.piimage.image.ImageProfile;
import io.piimage.image.ImageProfiles;
import io.piimage.image.ImagerManifest;
import io.piimage.image.MbrPartitionTable;
import io.piimage.image.ProgressListener;
import io.piimage.plan.Node;
import io.piimage.plan.PiModel;
import io.piimage.plan.Plan;
import io.piimage.render.NodeFile;
import io.piimage.sink.Leftovers;
import io.piimage.util.FileTrees;
import io.piimage.util.Sha256;
import io.piimage.util.Threads;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;

/**
 * Whole node images for {@code bake --base-image}: one base image (raw {@code .img}, or {@code .img.xz},
 * {@code .img.gz}, {@code .zip} decompressed once to a hidden temp file beside the output), recognised by
 * its boot partition's label, then per node a copy with the node's seed files on the boot partition,
 * {@code cgroup_enable=memory} on cmdline.txt and, for Pi 5 nodes, {@code kernel=kernel8.img} under
 * {@code [pi5]} in config.txt where the base ships kernel8.img (Raspberry Pi OS; Ubuntu boots vmlinuz).
 *
 * <p>Images are made in a hidden staging directory beside the output and only moved into it after the
 * seed files were written; {@link #close()} deletes every temp file, so a failed bake leaves no image.
 * {@code xz} (xz-utils) must be installed for {@code .xz} input or output.
 */
public final class NodeImages implements AutoCloseable {

    /** How node images are stored. */
    public enum Compression {
        NONE(""), XZ(".xz"), GZ(".gz");

        final String suffix;

        Compression(String suffix) {
            this.suffix = suffix;
        }
    }

    private static final int BLOCK = 1 << 16;
    /** Node images carry keys (control planes: the CA's): like every other output, for the owner only. */
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    /** Copies in flight at once: more than two only queue for the same memory bandwidth. */
    private static final int MAX_PARALLEL_IMAGES = 2;

    private final Path source;
    private final Path raw;
    private final boolean rawIsTemp;
    private final ImageProfile profile;
    private final List<String> labels;
    private final Path workDir;
    private final DataMap data;
    private final Bmap.Hashes baseHashes;
    private Path staging;
    private final Map<Node, Staged> staged = new LinkedHashMap<>();
    private final List<Path> published = new ArrayList<>();

    /** One node image in staging, with what the manifest needs ({@code extractSha256} null without checksums). */
    record Staged(Path file, long extractSize, String extractSha256) {
    }

    private NodeImages(Path source, Path raw, boolean rawIsTemp, ImageProfile profile, List<String> labels,
                       Path workDir, DataMap data) {
        this.source = source;
        this.raw = raw;
        this.rawIsTemp = rawIsTemp;
        this.profile = profile;
        this.labels = labels;
        this.workDir = workDir;
        this.data = data;
        this.baseHashes = new Bmap.Hashes(raw);
    }

    public ImageProfile profile() {
        return profile;
    }

    /**
     * Decompresses the base if needed (once), recognises its profile (or takes {@code forcedProfile}) and
     * checks every node of the plan wants that profile. Nothing but a hidden temp file is written.
     */
    static NodeImages open(Path base, Path workDir, ImageProfiles profiles, String forcedProfile, Plan plan,
                           Consumer<BakeEvent> events) throws BakeException, IOException {
        if (!Files.isRegularFile(base)) {
            throw new BakeException("base image " + base + " does not exist");
        }
        Files.createDirectories(workDir);
        ImageProfile forced = null;
        if (forcedProfile != null) {
            forced = profiles.find(forcedProfile).orElseThrow(() -> new BakeException("unknown image profile '"
                    + forcedProfile + "'; known: " + String.join(", ", profiles.names())));
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
            return new NodeImages(base, raw, temp, recognised.profile, recognised.labels, workDir, data);
        } catch (BakeException | IOException | RuntimeException e) {
            if (temp) {
                Files.deleteIfExists(raw);
            }
            throw e;
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

    // ---------------------------------------------------------------- base decompression

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
                xz(List.of("xz", "-dc", base.toString()), temp, "decompressing " + base);
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

    /** Runs xz with stdout into {@code output}; fails with xz's message. */
    private static void xz(List<String> command, Path output, String what) throws IOException, BakeException {
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .start();
        } catch (IOException e) {
            throw new BakeException(what + " needs the 'xz' command (install xz-utils): " + e.getMessage(), e);
        }
        process.getOutputStream().close();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            int exit = process.waitFor();
            if (exit != 0) {
                throw new BakeException(what + ": xz failed (exit " + exit + "): " + stderr);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new BakeException(what + ": interrupted", e);
        }
    }

    // ---------------------------------------------------------------- node images

    /** The changes that make the base a node's card. */
    static BootPartitionChanges changes(NodeCard card) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (NodeFile file : card.bootFiles().files()) {
            files.put(file.path(), file.content());
        }
        Map<String, UnaryOperator<String>> edits = new LinkedHashMap<>();
        edits.put("cmdline.txt", c -> CmdlineTxt.appendOnce(c, "cgroup_enable=memory"));
        Map<String, String> needing = new LinkedHashMap<>();
        if (card.node().model() == PiModel.PI5) {
            // The 4K-page kernel only where the base ships it (Raspberry Pi OS): Ubuntu boots vmlinuz,
            // and a kernel= naming a missing file leaves the Pi unable to boot.
            edits.put("config.txt", c -> ConfigTxt.ensureSection(c, "[pi5]", "kernel=kernel8.img"));
            needing.put("config.txt", "kernel8.img");
        }
        return new BootPartitionChanges(files, edits, needing);
    }

    /**
     * Makes every node's image in the hidden staging directory, a few at a time: a copy is mostly the
     * kernel moving page-cache pages, so two copies on two cores take little longer than one.
     * {@code checksums}: also hash every image for the Imager manifest; that reads each whole image once
     * more (about 0.7 s per GiB here), which costs more than making it, so it is asked for, not the default.
     * {@code progress} sees the bytes copied for all images together; events may come from pool threads
     * but never at the same time.
     */
    void build(List<NodeCard> cards, Compression compression, boolean checksums, LocalDateTime timestamp,
               ProgressListener progress, Consumer<BakeEvent> events) throws IOException, BakeException {
        staging = Files.createTempDirectory(workDir, Leftovers.name(".piimage-images-"));
        long total = data.dataBytes() * cards.size();
        AtomicLong copied = new AtomicLong();
        Object lock = new Object();
        Consumer<BakeEvent> serialEvents = event -> {
            synchronized (lock) {
                events.accept(event);
            }
        };
        ExecutorService pool = Threads.pool("piimage-node-image", Math.min(cards.size(), MAX_PARALLEL_IMAGES));
        try {
            List<Future<Staged>> futures = new ArrayList<>();
            for (NodeCard card : cards) {
                ProgressListener nodeProgress = new ProgressListener() {
                    private long reported;

                    @Override
                    public void progress(long done, long ignored) {
                        long sum = copied.addAndGet(done - reported);
                        reported = done;
                        synchronized (lock) {
                            progress.progress(sum, total);
                        }
                    }
                };
                futures.add(pool.submit(() -> buildOne(card, compression, checksums, timestamp, nodeProgress, serialEvents)));
            }
            for (int i = 0; i < cards.size(); i++) {
                staged.put(cards.get(i).node(), await(futures.get(i)));
            }
        } finally {
            pool.shutdownNow();
            try {
                // Let every copy stop before close() deletes the staging directory under it.
                pool.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Staged await(Future<Staged> future) throws IOException, BakeException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BakeException("interrupted while writing node images", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BakeException b) {
                throw b;
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(cause);
        }
    }

    private Staged buildOne(NodeCard card, Compression compression, boolean checksums, LocalDateTime timestamp,
                            ProgressListener progress, Consumer<BakeEvent> events) throws IOException, BakeException {
        Node node = card.node();
        long started = System.nanoTime();
        events.accept(new BakeEvent.ImageStarted(node));
        Path img = staging.resolve(node.name() + ".img");
        try {
            BmapWrites written = new BmapWrites();
            new BootPartitionInjector(labels, timestamp, progress).inject(raw, "base image " + source, data, img, changes(card), written);
            // <node>.img.bmap: what bmaptool copies and verifies, for every compression.
            Bmap.of(data, written.ranges()).writeBeside(img, staging.resolve(node.name() + ".img" + Bmap.SUFFIX), baseHashes);
        } catch (ImageException e) {
            throw new BakeException("node " + node.name() + ": " + e.getMessage(), e);
        }
        long size = Files.size(img);
        String sha = checksums ? Sha256.hex(img) : null;
        Path file = img;
        if (compression == Compression.XZ) {
            file = staging.resolve(node.name() + ".img.xz");
            Files.createFile(file, OWNER_ONLY); // xz's output inherits this mode: the image may hold CA keys
            xz(List.of("xz", "-T0", "-c", img.toString()), file, "compressing " + node.name() + ".img");
            Files.delete(img);
        } else if (compression == Compression.GZ) {
            file = staging.resolve(node.name() + ".img.gz");
            Files.createFile(file, OWNER_ONLY);
            try (InputStream in = Files.newInputStream(img);
                 OutputStream out = new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(file), BLOCK), BLOCK)) {
                in.transferTo(out);
            }
            Files.delete(img);
        }
        events.accept(new BakeEvent.ImageWritten(node, file, size, (System.nanoTime() - started) / 1_000_000));
        return new Staged(file, size, sha);
    }

    /** Moves the staged images into {@code dir} and writes the Imager manifest; undoes itself on failure. */
    Path publish(Plan plan, Path dir, LocalDate released) throws IOException {
        boolean ok = false;
        Path manifest = dir.resolve(plan.cluster().name() + ImagerManifest.SUFFIX);
        try {
            Map<Node, Path> images = new LinkedHashMap<>();
            for (Map.Entry<Node, Staged> e : staged.entrySet()) {
                Path target = dir.resolve(e.getValue().file().getFileName().toString());
                Path bmap = staging.resolve(e.getKey().name() + ".img" + Bmap.SUFFIX);
                Files.move(bmap, dir.resolve(bmap.getFileName()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                published.add(dir.resolve(bmap.getFileName()));
                Files.move(e.getValue().file(), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                published.add(target);
                images.put(e.getKey(), target);
            }
            ImagerIntegration.writeManifest(plan, dir, images, released, node -> {
                Staged s = staged.get(node);
                return new ImagerIntegration.ImageFile(images.get(node), s.extractSize(), s.extractSha256());
            });
            ok = true;
            return manifest;
        } finally {
            if (!ok) {
                for (Path p : published) {
                    Files.deleteIfExists(p);
                }
                Files.deleteIfExists(manifest);
            }
        }
    }

    /** Deletes the decompressed base and the staging directory (with anything not published). */
    @Override
    public void close() throws IOException {
        if (rawIsTemp) {
            Files.deleteIfExists(raw);
        }
        if (staging != null) {
            FileTrees.delete(staging);
        }
    }

    Path source() {
        return source;
    }
}
