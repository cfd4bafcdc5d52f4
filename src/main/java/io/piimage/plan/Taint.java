package io.piimage.plan;

/** A Kubernetes taint; {@code value} may be empty. effect: NoSchedule | PreferNoSchedule | NoExecute. */
public record Taint(String key, String value, String effect) {
}
