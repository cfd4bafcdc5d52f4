package io.piimage.image;

import io.piimage.json.Json;
import io.piimage.util.AtomicWrite;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A Raspberry Pi Imager custom repository ({@code rpi-imager --repo FILE}, or double-click a
 * {@code .rpi-imager-manifest}): the {@code os_list} JSON Imager reads, one entry per node image, so the
 * user picks "makina: master1" instead of browsing for a file.
 *
 * <p>Checked against Imager's own sources (raspberrypi/rpi-imager): {@code doc/json-schema/os-list-schema.json}
 * requires name, description, icon, url, extract_size, extract_sha256, image_download_size and release_date
 * for an OS entry (sizes integers, the rest strings); {@code doc/os-sublist-example.json} adds
 * image_download_sha256 and devices; {@code src/oslistmodel.cpp} reads these keys, drops entries whose
 * init_format is not one of "", systemd, cloudinit, cloudinit-rpi, rpi-preseed, none, and takes an icon
 * starting {@code icons/} from its own resources. Imager aborts a write whose bytes do not match
 * extract_sha256, so every entry carries it.
 *
 * <p>{@code init_format} is always {@code none}: our images already carry their cloud-init seed, and an
 * Imager that "customises" a cloud-init image writes its own user-data over ours.
 */
public final class ImagerManifest {

    /** The file name suffix Imager 2.x opens as a repository. */
    public static final String SUFFIX = ".rpi-imager-manifest";

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private ImagerManifest() {
    }

    /** Imager's own icon for a custom image, from its resources: works offline, unlike a URL. */
    public static final String ICON = "icons/use_custom.png";

    /**
     * One node image. {@code extract*} describe the raw image once decompressed, {@code download*} the
     * file as stored (the same for an uncompressed {@code .img}). {@code devices} are Imager's device tags
     * (pi3-64bit, pi4-64bit, pi5-64bit); empty means every device.
     */
    public record Entry(String name, String description, Path image, long extractSize, String extractSha256,
                        long downloadSize, String downloadSha256, LocalDate releaseDate, List<String> devices) {

        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(description, "description");
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(releaseDate, "releaseDate");
            if (name.isBlank()) {
                throw new IllegalArgumentException("an Imager entry needs a name");
            }
            if (extractSize <= 0 || downloadSize <= 0) {
                throw new IllegalArgumentException(name + ": image sizes must be positive");
            }
            extractSha256 = checkSha(name, extractSha256);
            downloadSha256 = checkSha(name, downloadSha256);
            devices = List.copyOf(devices);
        }

        private static String checkSha(String name, String sha) {
            if (sha == null) {
                throw new IllegalArgumentException(name + ": an Imager entry needs both SHA-256s");
            }
            String lower = sha.toLowerCase(Locale.ROOT);
            if (!SHA256.matcher(lower).matches()) {
                throw new IllegalArgumentException(name + ": '" + sha + "' is not a SHA-256 in hex");
            }
            return lower;
        }
    }

    /** An entry for an uncompressed {@code .img}: what Imager downloads is what it writes. */
    public static Entry uncompressed(String name, String description, Path image, long size, String sha256,
                                     LocalDate releaseDate, List<String> devices) {
        return new Entry(name, description, image, size, sha256, size, sha256, releaseDate, devices);
    }

    /** The os_list JSON. Image URLs are absolute {@code file://} URIs, as Imager's own local-list tool writes. */
    public static String render(List<Entry> entries) {
        List<Object> osList = new ArrayList<>();
        for (Entry entry : entries) {
            Map<String, Object> os = new LinkedHashMap<>();
            os.put("name", entry.name());
            os.put("description", entry.description());
            os.put("icon", ICON);
            os.put("url", entry.image().toAbsolutePath().normalize().toUri().toString());
            os.put("extract_size", entry.extractSize());
            os.put("extract_sha256", entry.extractSha256());
            os.put("image_download_size", entry.downloadSize());
            os.put("image_download_sha256", entry.downloadSha256());
            os.put("release_date", entry.releaseDate().toString());
            if (!entry.devices().isEmpty()) {
                os.put("devices", entry.devices());
            }
            os.put("init_format", "none");
            osList.add(os);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("os_list", osList);
        return Json.write(root) + "\n";
    }

    /** Writes {@code dir/<cluster>.rpi-imager-manifest} atomically and returns its path. */
    public static Path write(Path dir, String cluster, List<Entry> entries) throws IOException {
        Files.createDirectories(dir);
        Path target = dir.resolve(cluster + SUFFIX);
        AtomicWrite.writeString(target, render(entries));
        return target;
    }

    /** Imager's device tag for a board generation key (pi3, pi4, pi5): our images are 64-bit. */
    public static String deviceTag(String model) {
        return model + "-64bit";
    }
}
