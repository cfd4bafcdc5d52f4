package io.piimage.plan;

import io.piimage.json.Json;
import io.piimage.plan.PlanFormat.Key;
import io.piimage.plan.PlanFormat.Section;
import io.piimage.plan.PlanFormat.Type;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON Schema of the plan format, {@code src/main/resources/piimage/schema/plan-v1.schema.json}. The
 * file is generated from {@link PlanFormat} by {@link #generate}; PlanSchemaTest fails when the two differ
 * and rewrites the file when run with {@code -Dpiimage.schema.update=true}.
 */
public final class PlanSchema {

    public static final String RESOURCE = "piimage/schema/plan-v1.schema.json";

    private PlanSchema() {
    }

    /** The shipped schema. */
    public static String text() {
        try (InputStream in = PlanSchema.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The schema {@link PlanFormat} describes, for a build whose image profiles are {@code imageProfiles}. */
    public static String generate(Collection<String> imageProfiles) {
        Generator generator = new Generator(imageProfiles.stream().sorted().toList());
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.put("$id", "https://piimage.io/schema/plan-v1.schema.json");
        schema.put("title", "piimage cluster plan (" + Plan.API_VERSION + ")");
        schema.put("description", PlanFormat.TOP.doc() + " Generated from the plan format's one description; docs/plan-format.md"
                + " explains every key, and `piimage check` enforces the rules a schema cannot (uniqueness, subnets, quorum).");
        schema.putAll(generator.section(PlanFormat.TOP));
        schema.put("$defs", generator.defs);
        return Json.write(schema) + "\n";
    }

    private static final class Generator {
        private final List<String> imageProfiles;
        private final Map<String, Object> defs = new LinkedHashMap<>();

        Generator(List<String> imageProfiles) {
            this.imageProfiles = imageProfiles;
        }

        Map<String, Object> section(Section section) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("type", "object");
            if (!section.name().isEmpty()) {
                out.put("description", section.doc());
            }
            out.put("additionalProperties", false);
            List<String> required = section.keys().stream().filter(Key::required).map(Key::name).toList();
            if (!required.isEmpty()) {
                out.put("required", required);
            }
            Map<String, Object> properties = new LinkedHashMap<>();
            for (Key key : section.keys()) {
                Map<String, Object> property = new LinkedHashMap<>(type(key.type()));
                property.put("description", key.doc());
                if (key.defaultValue() != null) {
                    property.put("default", key.defaultValue());
                }
                properties.put(key.name(), property);
            }
            out.put("properties", properties);
            if (!section.conditions().isEmpty()) {
                out.put("allOf", value(section.conditions()));
            }
            return out;
        }

        /** A type's schema: a $ref to its $defs entry when it has a name, else its words inline. */
        @SuppressWarnings("unchecked")
        Map<String, Object> type(Type type) {
            Map<String, Object> inline = (Map<String, Object>) value(type.schema());
            if (type.name() == null) {
                return inline;
            }
            defs.putIfAbsent(type.name(), inline);
            return Map.of("$ref", "#/$defs/" + type.name());
        }

        Object value(Object value) {
            if (value instanceof Type type) {
                return type(type);
            }
            if (value instanceof Section section) {
                return section(section);
            }
            if (value instanceof Map<?, ?> map) {
                if (map.size() == 1 && map.get("$section") instanceof Section section) {
                    return section(section);
                }
                Map<String, Object> out = new LinkedHashMap<>();
                map.forEach((k, v) -> out.put((String) k, k.equals("enum") && PlanFormat.IMAGE_PROFILES.equals(v) ? imageProfiles : value(v)));
                return out;
            }
            if (value instanceof List<?> list) {
                List<Object> out = new ArrayList<>();
                list.forEach(item -> out.add(value(item)));
                return out;
            }
            return value;
        }
    }
}
