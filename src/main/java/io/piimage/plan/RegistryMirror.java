package io.piimage.plan;

/** A containerd registry mirror: {@code host} (as images name it) served from {@code endpoint}. */
public record RegistryMirror(String host, String endpoint, boolean insecure) {
}
