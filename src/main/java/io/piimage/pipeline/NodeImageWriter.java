package io.piimage.pipeline;

import io.piimage.image.Bmap;
import io.piimage.image.BmapWrites;
import io.piimage.image.BootPartitionChanges;
import io.piimage.image.BootPartitionInjector;
import io.piimage.image.CmdlineTxt;
import io.piimage.image.ConfigTxt;
import io.piimage.image.ImageException;
import io.piimage.image.ProgressListener;
import io.piimage.plan.Node;
import io.piimage.plan.PiModel;
import io.piimage.render.NodeFile;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;

/**
 * Writes one node's card image into a directory: a copy of the base with the node's seed files on its
 * boot partition, {@code cgroup_enable=memory} on cmdline.txt and, for Pi 5 nodes, {@code
 * kernel=kernel8.img} under {@code [pi5]} in config.txt where the base ships kernel8.img (Raspberry Pi
 * OS; Ubuntu boots vmlinuz); its bmap beside it; compressed if asked. The SHA-256s the Imager manifest
 * carries are taken while the image and the compressed file are written.
 */
final class NodeImageWriter {

    private static final int BLOCK = 1 << 16;
    /** Node images carry keys (control planes: the CA's): like every other output, for the owner only. */
    private static final FileAttribute<?> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    /**
     * A node's image as written: the raw image's size and SHA-256 ({@code extract*}) and the stored
     * file's ({@code download*}: the same for an uncompressed image).
     */
    record NodeImage(Node node, Path file, Path bmap, long extractSize, String extractSha256,
                     long downloadSize, String downloadSha256) {
    }

    private final BaseImage base;
    private final Compression compression;
    private final LocalDateTime timestamp;

    /** {@code timestamp}: on every file written to the boot partition (fixed, so images are reproducible). */
    NodeImageWriter(BaseImage base, Compression compression, LocalDateTime timestamp) {
        this.base = base;
        this.compression = compression;
        this.timestamp = timestamp;
    }

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

    /** Writes {@code dir/<node>.img[.xz|.gz]} and {@code dir/<node>.img.bmap}; {@code progress} sees the bytes copied. */
    NodeImage write(NodeCard card, Path dir, ProgressListener progress) throws IOException, BakeException {
        Node node = card.node();
        Path img = dir.resolve(node.name() + ".img");
        Path bmap = dir.resolve(node.name() + ".img" + Bmap.SUFFIX);
        String extractSha;
        try {
            BmapWrites written = new BmapWrites();
            extractSha = new BootPartitionInjector(base.labels(), timestamp, progress)
                    .inject(base.raw(), "base image " + base.source(), base.data(), img, changes(card), written).sha256();
            // <node>.img.bmap: what bmaptool copies and verifies, for every compression.
            Bmap.of(base.data(), written.ranges()).writeBeside(img, bmap, base.hashes());
        } catch (ImageException e) {
            throw new BakeException("node " + node.name() + ": " + e.getMessage(), e);
        }
        long size = Files.size(img);
        if (compression == Compression.NONE) {
            return new NodeImage(node, img, bmap, size, extractSha, size, extractSha);
        }
        Path file = dir.resolve(node.name() + ".img" + compression.suffix());
        Files.createFile(file, OWNER_ONLY);
        MessageDigest digest = sha256();
        // The compressed file is hashed as it is written, for image_download_sha256.
        try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(file), BLOCK), digest)) {
            if (compression == Compression.XZ) {
                XzCommand.compress(img, out);
            } else {
                try (InputStream in = Files.newInputStream(img);
                     OutputStream gz = new GZIPOutputStream(new KeepOpen(out), BLOCK)) {
                    in.transferTo(gz);
                }
            }
        }
        Files.delete(img);
        return new NodeImage(node, file, bmap, size, extractSha, Files.size(file), HexFormat.of().formatHex(digest.digest()));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Lets gzip finish its stream without closing the digesting file stream under it. */
    private static final class KeepOpen extends FilterOutputStream {
        KeepOpen(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
