package io.piimage.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The base-image profiles packaged in the jar (from the repository's {@code images/}). */
public final class ImageProfiles {

    private static final String ROOT = "piimage/images/";

    private final Map<String, ImageProfile> profiles;

    private ImageProfiles(Map<String, ImageProfile> profiles) {
        this.profiles = profiles;
    }

    public static ImageProfiles packaged() {
        String index = resource(ROOT + "index").orElseThrow(() -> new IllegalStateException("images/index missing from the jar"));
        Map<String, ImageProfile> profiles = new LinkedHashMap<>();
        index.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).forEach(name -> {
            String yaml = resource(ROOT + name + ".yaml")
                    .orElseThrow(() -> new IllegalStateException("images/" + name + ".yaml missing from the jar"));
            profiles.put(name, parse(name, yaml));
        });
        return new ImageProfiles(Map.copyOf(profiles));
    }

    public Set<String> names() {
        return new java.util.TreeSet<>(profiles.keySet());
    }

    public Optional<ImageProfile> find(String name) {
        return Optional.ofNullable(profiles.get(name));
    }

    public ImageProfile get(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException("unknown image profile '" + name + "'"));
    }

    @SuppressWarnings("unchecked")
    static ImageProfile parse(String name, String yaml) {
        Map<String, Object> map = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(yaml);
        Map<String, Object> boot = (Map<String, Object>) map.get("bootPartition");
        Map<String, Object> root = (Map<String, Object>) map.get("rootPartition");
        Map<String, Object> cloudInit = (Map<String, Object>) map.get("cloudInit");
        if (!name.equals(map.get("name"))) {
            throw new IllegalStateException("images/" + name + ".yaml names itself '" + map.get("name") + "'");
        }
        return new ImageProfile(
                name,
                (String) map.get("description"),
                (String) map.get("defaultUser"),
                (String) boot.get("label"),
                (String) boot.get("mountPoint"),
                (String) root.get("label"),
                (String) cloudInit.get("seedDirectory"),
                Boolean.TRUE.equals(cloudInit.get("aptModule")),
                (String) map.get("networkRenderer"),
                (String) map.get("swap"),
                (String) map.get("firewall"),
                oneOf(name, map, "sshService", "enabled", "disabled"),
                oneOf(name, map, "userWizard", "none", "userconf"),
                oneOf(name, map, "usbNicNames", "kernel", "mac"));
    }

    private static String oneOf(String name, Map<String, Object> map, String key, String... allowed) {
        Object value = map.get(key);
        if (!java.util.List.of(allowed).contains(value)) {
            throw new IllegalStateException("images/" + name + ".yaml: " + key + " must be one of "
                    + String.join(", ", allowed) + ", not " + value);
        }
        return (String) value;
    }

    private static Optional<String> resource(String name) {
        try (InputStream in = ImageProfiles.class.getClassLoader().getResourceAsStream(name)) {
            return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
