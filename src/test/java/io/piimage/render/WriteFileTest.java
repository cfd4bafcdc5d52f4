package io.piimage.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

class WriteFileTest {

    /** Renders a one-entry write_files list the way user-data.ftl does and parses it back. */
    @SuppressWarnings("unchecked")
    private static byte[] roundTrip(String content) {
        WriteFile entry = WriteFile.of(NodeFile.text("/etc/x", content, 0644));
        String yaml = "write_files:\n  - path: " + entry.path() + "\n"
                + (entry.base64() ? "    encoding: b64\n    content: " + entry.content() + "\n"
                        : "    content: |\n" + entry.content());
        Map<String, Object> doc = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(yaml);
        Map<String, Object> file = ((List<Map<String, Object>>) doc.get("write_files")).get(0);
        String value = (String) file.get("content");
        return entry.base64() ? Base64.getDecoder().decode(value) : value.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void plainTextStaysReadableAndExact() {
        String text = "global\n    log /dev/log local0\n\n\tindented: with a tab\n# comment: yes\n";
        assertThat(WriteFile.of(NodeFile.text("/etc/a", text, 0644)).base64()).isFalse();
        assertThat(roundTrip(text)).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void contentALiteralBlockCannotCarryExactlyIsBase64AndExact() {
        for (String text : List.of("no final newline", "two final newlines\n\n", " leading space\n",
                "\nleading newline\n", "carriage\r\nreturn\n", "bell\u0007\n", "")) {
            assertThat(WriteFile.of(NodeFile.text("/etc/a", text, 0644)).base64()).as(text).isTrue();
            assertThat(roundTrip(text)).as(text).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void permissionsAreOctal() {
        assertThat(WriteFile.of(NodeFile.text("/k", "x\n", 0600)).permissions()).isEqualTo("0600");
        assertThat(WriteFile.of(NodeFile.text("/s", "#!/bin/sh\n", 0755)).permissions()).isEqualTo("0755");
    }
}
