package io.piimage.plan;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The JSON Schema of the plan format, {@code src/main/resources/piimage/schema/plan-v1.schema.json}. */
public final class PlanSchema {

    public static final String RESOURCE = "piimage/schema/plan-v1.schema.json";

    private PlanSchema() {
    }

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
}
