package io.piimage.sink;

import io.piimage.render.FileTree;
import io.piimage.render.NodeFile;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Date;
import java.util.TreeSet;
import java.util.zip.Deflater;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;

/**
 * Writes the tree as one {@code .tar.gz} or {@code .zip} with fixed timestamps, owners and order, so
 * two bakes of the same plan and secrets give identical bytes. Staged in a private temporary file,
 * then renamed into place.
 */
public final class ArchiveSink implements Sink {

    /** The archive formats, chosen by the file name. */
    public enum Format {
        TAR_GZ, ZIP;

        /**
         * TAR_GZ for a name ending .tar.gz/.tgz, ZIP for .zip, nothing for any other name (a directory);
         * a path without a name (the root) is refused.
         */
        public static java.util.Optional<Format> forPath(Path target) {
            Path name = target.toAbsolutePath().normalize().getFileName();
            if (name == null) {
                throw new IllegalArgumentException("the output cannot be " + target + ": it must be a directory or file "
                        + "piimage can create or replace, such as out/<cluster>");
            }
            String fileName = name.toString();
            if (fileName.endsWith(".tar.gz") || fileName.endsWith(".tgz")) {
                return java.util.Optional.of(TAR_GZ);
            }
            return fileName.endsWith(".zip") ? java.util.Optional.of(ZIP) : java.util.Optional.empty();
        }
    }

    /** 2000-01-01T00:00:00Z: fixed, and representable in zip's DOS time. */
    static final long FIXED_TIME_MILLIS = 946_684_800_000L;

    private final Path target;
    private final Format format;

    public ArchiveSink(Path target, Format format) {
        this.target = target;
        this.format = format;
    }

    @Override
    public Path target() {
        return target;
    }

    @Override
    public void check() throws IOException {
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(target + " is a directory; an archive output needs a file name");
        }
    }

    @Override
    public Staged stage(FileTree tree) throws IOException {
        check();
        Files.createDirectories(target.toAbsolutePath().normalize().getParent());
        Path staging = AtomicFiles.sibling(target, "tmp");
        return AtomicFiles.stage(staging, () -> {
            Files.createFile(staging, AtomicFiles.PRIVATE_FILE);
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(staging, StandardOpenOption.WRITE))) {
                if (format == Format.TAR_GZ) {
                    writeTarGz(tree, out);
                } else {
                    writeZip(tree, out);
                }
            }
            try (FileChannel channel = FileChannel.open(staging, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        }, () -> {
            check();
            AtomicFiles.move(staging, target);
        });
    }

    /** Directories implied by the file paths, so extracting tools create them with private modes. */
    private static TreeSet<String> directories(FileTree tree) {
        TreeSet<String> dirs = new TreeSet<>();
        for (NodeFile file : tree.files()) {
            String path = file.path();
            for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
                dirs.add(path.substring(0, slash + 1));
            }
        }
        return dirs;
    }

    private static void writeTarGz(FileTree tree, OutputStream out) throws IOException {
        GzipParameters parameters = new GzipParameters();
        parameters.setModificationTime(0);
        parameters.setOperatingSystem(3);
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(out, parameters))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String dir : directories(tree)) {
                TarArchiveEntry entry = new TarArchiveEntry(dir);
                fix(entry, 040700);
                tar.putArchiveEntry(entry);
                tar.closeArchiveEntry();
            }
            for (NodeFile file : tree.files()) {
                TarArchiveEntry entry = new TarArchiveEntry(file.path());
                fix(entry, 0100600);
                entry.setSize(file.size());
                tar.putArchiveEntry(entry);
                tar.write(file.content());
                tar.closeArchiveEntry();
            }
        }
    }

    private static void fix(TarArchiveEntry entry, int mode) {
        entry.setMode(mode);
        entry.setModTime(new Date(FIXED_TIME_MILLIS));
        entry.setUserId(0);
        entry.setGroupId(0);
        entry.setUserName("root");
        entry.setGroupName("root");
    }

    private static void writeZip(FileTree tree, OutputStream out) throws IOException {
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(out)) {
            zip.setLevel(Deflater.BEST_COMPRESSION);
            for (String dir : directories(tree)) {
                ZipArchiveEntry entry = new ZipArchiveEntry(dir);
                entry.setUnixMode(040700);
                entry.setLastModifiedTime(FileTime.fromMillis(FIXED_TIME_MILLIS));
                zip.putArchiveEntry(entry);
                zip.closeArchiveEntry();
            }
            for (NodeFile file : tree.files()) {
                ZipArchiveEntry entry = new ZipArchiveEntry(file.path());
                entry.setUnixMode(0100600);
                entry.setLastModifiedTime(FileTime.fromMillis(FIXED_TIME_MILLIS));
                zip.putArchiveEntry(entry);
                zip.write(file.content());
                zip.closeArchiveEntry();
            }
        }
    }
}
