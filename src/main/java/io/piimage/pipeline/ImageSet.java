package io.piimage.pipeline;

import io.piimage.image.ImagerManifest;
import io.piimage.image.ProgressListener;
import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.sink.Leftovers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A bake's set of node images: every node's image made in a hidden staging directory beside the output,
 * then published into it with the Imager manifest, only after the seed files were written.
 * {@link #close()} deletes the staging directory with whatever was not published, so a failed bake
 * leaves no image.
 */
final class ImageSet implements AutoCloseable {

    /** Copies in flight at once: more than two only queue for the same memory bandwidth. */
    private static final int MAX_PARALLEL_IMAGES = 2;

    private final Path staging;
    private final List<NodeImageWriter.NodeImage> images;
    private final List<Path> published = new ArrayList<>();

    private ImageSet(Path staging, List<NodeImageWriter.NodeImage> images) {
        this.staging = staging;
        this.images = List.copyOf(images);
    }

    /**
     * Makes every card's image in a new staging directory in {@code workDir}, a few at a time: a copy is
     * mostly moving page-cache pages, so two copies on two cores take little longer than one. Events
     * (image started, progress over all images together, image written) may come from pool threads, but
     * never at the same time.
     */
    static ImageSet build(BaseImage base, List<NodeCard> cards, Compression compression, LocalDateTime timestamp,
                          Path workDir, Consumer<BakeEvent> events) throws IOException, BakeException {
        Path staging = Files.createTempDirectory(workDir, Leftovers.name(".piimage-images-"));
        try {
            return new ImageSet(staging, buildAll(new NodeImageWriter(base, compression, timestamp), base, cards, staging, events));
        } catch (IOException | BakeException | RuntimeException e) {
            deleteTree(staging);
            throw e;
        }
    }

    private static List<NodeImageWriter.NodeImage> buildAll(NodeImageWriter writer, BaseImage base, List<NodeCard> cards,
                                                            Path staging, Consumer<BakeEvent> events)
            throws IOException, BakeException {
        long total = base.data().dataBytes() * cards.size();
        AtomicLong copied = new AtomicLong();
        Object lock = new Object();
        Consumer<BakeEvent> serial = event -> {
            synchronized (lock) {
                events.accept(event);
            }
        };
        int threads = Math.max(1, Math.min(cards.size(), Math.min(MAX_PARALLEL_IMAGES, Runtime.getRuntime().availableProcessors())));
        ExecutorService pool = Executors.newFixedThreadPool(threads, task -> {
            Thread t = new Thread(task, "piimage-node-image");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<NodeImageWriter.NodeImage>> futures = new ArrayList<>();
            for (NodeCard card : cards) {
                ProgressListener progress = new ProgressListener() {
                    private long reported;

                    @Override
                    public void progress(long done, long ignored) {
                        long sum = copied.addAndGet(done - reported);
                        reported = done;
                        serial.accept(new BakeEvent.ImageProgress(sum, total));
                    }
                };
                futures.add(pool.submit(() -> {
                    long started = System.nanoTime();
                    serial.accept(new BakeEvent.ImageStarted(card.node()));
                    NodeImageWriter.NodeImage image = writer.write(card, staging, progress);
                    serial.accept(new BakeEvent.ImageWritten(card.node(), image.file(), image.extractSize(),
                            (System.nanoTime() - started) / 1_000_000));
                    return image;
                }));
            }
            List<NodeImageWriter.NodeImage> images = new ArrayList<>();
            for (Future<NodeImageWriter.NodeImage> future : futures) {
                images.add(await(future));
            }
            return images;
        } finally {
            pool.shutdownNow();
            try {
                // Let every copy stop before the staging directory is deleted under it.
                pool.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static NodeImageWriter.NodeImage await(Future<NodeImageWriter.NodeImage> future) throws IOException, BakeException {
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

    /** Moves the images and bmaps into {@code dir} and writes the Imager manifest; undoes itself on failure. */
    Path publish(Plan plan, Path dir, LocalDate released) throws IOException {
        boolean ok = false;
        Path manifest = dir.resolve(plan.cluster().name() + ImagerManifest.SUFFIX);
        try {
            List<ImagerIntegration.ImageFile> files = new ArrayList<>();
            for (NodeImageWriter.NodeImage image : images) {
                move(image.bmap(), dir);
                Path target = move(image.file(), dir);
                files.add(new ImagerIntegration.ImageFile(image.node(), target, image.extractSize(), image.extractSha256(),
                        image.downloadSize(), image.downloadSha256()));
            }
            ImagerIntegration.writeManifest(plan, dir, files, released);
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

    private Path move(Path file, Path dir) throws IOException {
        Path target = dir.resolve(file.getFileName().toString());
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        published.add(target);
        return target;
    }

    /** The nodes whose images are in this set, in plan order. */
    List<Node> nodes() {
        return images.stream().map(NodeImageWriter.NodeImage::node).toList();
    }

    /** Deletes the staging directory with anything not published. */
    @Override
    public void close() throws IOException {
        deleteTree(staging);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
