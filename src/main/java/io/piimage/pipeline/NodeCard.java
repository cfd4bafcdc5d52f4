package io.piimage.pipeline;

import io.piimage.image.ImageProfile;
import io.piimage.plan.Node;
import io.piimage.render.FileTree;

/**
 * What goes on one node's SD card: the cloud-init seed files for the boot partition
 * ({@code user-data}, {@code meta-data}, {@code network-config}), plus the files they carry, kept for
 * inspection and tests.
 */
public record NodeCard(Node node, ImageProfile profile, FileTree bootFiles, FileTree nodeFiles) {
}
