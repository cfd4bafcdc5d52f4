package io.piimage.render;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renders the overlay trees ({@code overlays/<name>/...}) into the files a node needs. An overlay's
 * layout mirrors the node's filesystem: {@code overlays/load-balancer/etc/haproxy/haproxy.cfg.ftl}
 * becomes {@code /etc/haproxy/haproxy.cfg}.
 *
 * <ul>
 *   <li>{@code .ftl} files are FreeMarker templates; other files are copied as they are.</li>
 *   <li>A template whose output is blank is left out, so a file can depend on the topology.</li>
 *   <li>Mode: 0755 when the content starts with {@code #!}, else 0644; a template may set another
 *       with {@code <#global mode = "0600">} (e.g. a file holding a password).</li>
 *   <li>An optional {@code packages} file at the overlay's root names Debian packages the node needs,
 *       one per line; the first-boot phase 15-packages installs them.</li>
 * </ul>
 */
public final class OverlayRenderer {

    private final Templates templates;

    public OverlayRenderer(Templates templates) {
        this.templates = templates;
    }

    /** Renders every named overlay, in order; two overlays writing one path is an error. */
    public List<NodeFile> render(List<String> overlays, Map<String, ?> model) throws RenderException {
        List<NodeFile> files = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String overlay : overlays) {
            String tree = "overlays/" + overlay;
            for (String name : templates.source().list(tree)) {
                NodeFile file = renderOne(tree, name, model);
                if (file == null) {
                    continue;
                }
                if (!seen.add(file.path())) {
                    throw new RenderException("overlay " + overlay + " writes " + file.path()
                            + ", which another overlay of this node already writes", null);
                }
                files.add(file);
            }
        }
        return files;
    }

    /** Parses the templates of the named overlays ahead of rendering ({@link Templates#parseAhead}). */
    public void parseAhead(List<String> overlays) {
        List<String> names = new ArrayList<>();
        for (String overlay : overlays) {
            for (String name : templates.source().list("overlays/" + overlay)) {
                if (name.endsWith(".ftl")) {
                    names.add("overlays/" + overlay + "/" + name);
                }
            }
        }
        templates.parseAhead(names);
    }

    /** The packages the named overlays ask for, in first-seen order, without duplicates. */
    public List<String> packages(List<String> overlays) {
        java.util.LinkedHashSet<String> packages = new java.util.LinkedHashSet<>();
        for (String overlay : overlays) {
            templates.source().read("overlays/" + overlay + "/packages").ifPresent(text -> text.lines()
                    .map(line -> line.replaceFirst("#.*", "").strip())
                    .filter(line -> !line.isEmpty())
                    .forEach(packages::add));
        }
        return List.copyOf(packages);
    }

    private NodeFile renderOne(String tree, String name, Map<String, ?> model) throws RenderException {
        String templateName = tree + "/" + name;
        boolean isTemplate = name.endsWith(".ftl");
        String target = "/" + (isTemplate ? name.substring(0, name.length() - 4) : name);
        String text;
        Integer mode = null;
        if (isTemplate) {
            Templates.Rendered rendered = templates.renderWithMode(templateName, model);
            text = rendered.text();
            mode = rendered.mode();
            if (text.isBlank()) {
                return null;
            }
        } else {
            text = templates.source().read(templateName)
                    .orElseThrow(() -> new RenderException("overlay file " + templateName + " is listed but missing", null));
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int effectiveMode = mode != null ? mode : text.startsWith("#!") ? NodeFile.EXECUTABLE : NodeFile.READABLE;
        return new NodeFile(target, bytes, effectiveMode);
    }
}
