package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.testing.JsonSchemaValidator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The Raspberry Pi Imager repository file, against the os_list format Imager publishes and reads. */
class ImagerManifestTest {

    /**
     * What an OS entry must be for Imager, written here from Imager's own sources (raspberrypi/rpi-imager):
     * the required keys and types of an OS entry in doc/json-schema/os-list-schema.json (name, description,
     * icon, url, extract_size, extract_sha256, image_download_size, release_date; sizes integers, the rest
     * strings), image_download_sha256 and devices as in doc/os-sublist-example.json, and the init_format
     * values src/oslistmodel.cpp keeps (it drops an entry with any other). Stricter than Imager where our
     * entries promise more: both SHA-256s, 64 lowercase hex digits; file:// URLs; our device tags.
     */
    static final String OS_LIST_SCHEMA = """
            {
              "$schema": "http://json-schema.org/draft-07/schema",
              "type": "object",
              "required": ["os_list"],
              "properties": {
                "os_list": {
                  "type": "array",
                  "minItems": 1,
                  "items": {
                    "type": "object",
                    "required": ["name", "description", "icon", "url", "extract_size", "extract_sha256",
                                 "image_download_size", "image_download_sha256", "release_date", "init_format"],
                    "properties": {
                      "name": {"type": "string", "minLength": 1},
                      "description": {"type": "string"},
                      "icon": {"type": "string", "pattern": "^icons/"},
                      "url": {"type": "string", "pattern": "^file:///"},
                      "extract_size": {"type": "integer", "minimum": 1},
                      "extract_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                      "image_download_size": {"type": "integer", "minimum": 1},
                      "image_download_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                      "release_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                      "devices": {"type": "array", "items": {"enum": ["pi3-64bit", "pi4-64bit", "pi5-64bit"]}},
                      "init_format": {"enum": ["", "systemd", "cloudinit", "cloudinit-rpi", "rpi-preseed", "none"]}
                    }
                  }
                }
              }
            }
            """;

    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void oneEntryPerNodeImageWithSizeAndSha256OfTheFile() throws Exception {
        Path master = dir.resolve("makina-master1.img");
        Path worker = dir.resolve("makina worker1.img");
        Files.write(master, new byte[4096]);
        Files.writeString(worker, "not really an image", StandardCharsets.UTF_8);
        LocalDate day = LocalDate.of(2026, 1, 2);
        List<ImagerManifest.Entry> entries = List.of(
                ImagerManifest.uncompressed("makina: master1", "192.168.3.251 · control plane", master, 4096,
                        sha256(Files.readAllBytes(master)), day, List.of(ImagerManifest.deviceTag("pi4"))),
                ImagerManifest.uncompressed("makina: worker1", "192.168.3.231 · worker", worker, Files.size(worker),
                        sha256(Files.readAllBytes(worker)), day, List.of()));
        Path written = ImagerManifest.write(dir, "makina", entries);
        assertThat(written).isEqualTo(dir.resolve("makina.rpi-imager-manifest"));

        String json = Files.readString(written);
        assertThat(JsonSchemaValidator.validate(OS_LIST_SCHEMA, List.of(json), dir).get(0).valid()).as(json).isTrue();

        Map<String, Object> root = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(json);
        List<Map<String, Object>> list = (List<Map<String, Object>>) root.get("os_list");
        assertThat(list).hasSize(2);
        Map<String, Object> first = list.get(0);
        assertThat(first.get("name")).isEqualTo("makina: master1");
        assertThat(first.get("url")).isEqualTo(master.toUri().toString());
        assertThat(((Number) first.get("extract_size")).longValue()).isEqualTo(4096);
        assertThat(first.get("extract_sha256")).isEqualTo(sha256(Files.readAllBytes(master)));
        assertThat(first.get("image_download_sha256")).isEqualTo(first.get("extract_sha256"));
        assertThat(first.get("release_date")).isEqualTo("2026-01-02");
        assertThat(first.get("devices")).isEqualTo(List.of("pi4-64bit"));
        assertThat(first.get("init_format")).as("Imager must not write its own user-data over ours").isEqualTo("none");
        assertThat(first.get("icon")).as("Imager's own icon, offline").isEqualTo("icons/use_custom.png");
        // A space in the file name is percent-encoded in the file:// URL.
        assertThat((String) list.get(1).get("url")).startsWith("file:///").contains("makina%20worker1.img");
        assertThat(list.get(1)).doesNotContainKey("devices");
    }

    @Test
    void aCompressedEntryCarriesBothSizesAndBothHashes() throws Exception {
        Path image = Files.write(dir.resolve("w1.img.xz"), new byte[100]);
        String raw = "a".repeat(64);
        String stored = "b".repeat(64);
        String json = ImagerManifest.render(List.of(new ImagerManifest.Entry("c: w1", "", image, 4096, raw, 100, stored,
                LocalDate.of(2026, 1, 2), List.of())));
        assertThat(JsonSchemaValidator.validate(OS_LIST_SCHEMA, List.of(json), dir).get(0).valid()).as(json).isTrue();
        assertThat(json).contains("\"extract_size\": 4096").contains("\"extract_sha256\": \"" + raw)
                .contains("\"image_download_size\": 100").contains("\"image_download_sha256\": \"" + stored);
    }

    @Test
    void entriesRefuseWhatImagerWouldRejectLater() {
        Path image = dir.resolve("x.img");
        LocalDate day = LocalDate.of(2026, 1, 2);
        assertThatThrownBy(() -> ImagerManifest.uncompressed("x", "", image, 10, "abc", day, List.of()))
                .hasMessageContaining("SHA-256");
        assertThatThrownBy(() -> ImagerManifest.uncompressed("x", "", image, 10, null, day, List.of()))
                .hasMessageContaining("SHA-256");
        assertThatThrownBy(() -> ImagerManifest.uncompressed("x", "", image, 0, "0".repeat(64), day, List.of()))
                .hasMessageContaining("positive");
        assertThatThrownBy(() -> ImagerManifest.uncompressed(" ", "", image, 10, "0".repeat(64), day, List.of()))
                .hasMessageContaining("name");
        assertThat(ImagerManifest.uncompressed("x", "", image, 10, "AB".repeat(32), day, List.of()).extractSha256())
                .isEqualTo("ab".repeat(32));
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
