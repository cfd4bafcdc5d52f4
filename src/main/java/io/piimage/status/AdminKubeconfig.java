package io.piimage.status;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The parts of a kubeconfig that {@code status} needs: the current context's server, the CA it trusts,
 * and the user's client certificate and key (embedded {@code *-data} fields, as bake writes them).
 */
public record AdminKubeconfig(String server, String caPem, String certificatePem, String keyPem) {

    public TlsIdentity identity() {
        return TlsIdentity.fromPem(caPem, certificatePem, keyPem);
    }

    @SuppressWarnings("unchecked")
    public static AdminKubeconfig parse(String yaml) {
        Object loaded = new Load(LoadSettings.builder().build()).loadFromString(yaml);
        if (!(loaded instanceof Map<?, ?> root)) {
            throw new IllegalArgumentException("not a kubeconfig (no mapping at the top)");
        }
        String contextName = (String) root.get("current-context");
        Map<String, Object> context = named((List<Object>) root.get("contexts"), contextName, "context");
        Map<String, Object> contextBody = (Map<String, Object>) context.get("context");
        Map<String, Object> cluster = (Map<String, Object>) named((List<Object>) root.get("clusters"),
                (String) contextBody.get("cluster"), "cluster").get("cluster");
        Map<String, Object> user = (Map<String, Object>) named((List<Object>) root.get("users"),
                (String) contextBody.get("user"), "user").get("user");
        return new AdminKubeconfig(
                required(cluster, "server"),
                decode(required(cluster, "certificate-authority-data")),
                decode(required(user, "client-certificate-data")),
                decode(required(user, "client-key-data")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> named(List<Object> list, String name, String what) {
        if (list == null || list.isEmpty()) {
            throw new IllegalArgumentException("the kubeconfig has no " + what + "s");
        }
        for (Object item : list) {
            Map<String, Object> entry = (Map<String, Object>) item;
            if (name == null || name.equals(entry.get("name"))) {
                return entry;
            }
        }
        throw new IllegalArgumentException("the kubeconfig has no " + what + " named '" + name + "'");
    }

    private static String required(Map<String, Object> map, String key) {
        Object value = map == null ? null : map.get(key);
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException("the kubeconfig has no " + key);
        }
        return text;
    }

    private static String decode(String base64) {
        return new String(Base64.getMimeDecoder().decode(base64), StandardCharsets.US_ASCII);
    }
}
