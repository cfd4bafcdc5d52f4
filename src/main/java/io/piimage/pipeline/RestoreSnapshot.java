package io.piimage.pipeline;

import io.piimage.plan.Plan;
import io.piimage.render.FileTree;
import io.piimage.render.NodeFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bake --restore-from FILE}: the etcd snapshot goes onto the first control plane's card only,
 * beside its seed files on the boot partition ({@value #BOOT_FILE}), where its first boot restores it
 * into /var/lib/etcd before {@code kubeadm init}; every other node joins that cluster as usual. A file
 * that is not a complete etcd snapshot is refused before anything is written.
 */
final class RestoreSnapshot {

    static final String BOOT_FILE = "piimage-restore.db";

    private RestoreSnapshot() {
    }

    /** {@code cards} with the snapshot added to the first control plane's boot files ({@code snapshot} null: unchanged). */
    static List<NodeCard> onFirstControlPlane(Plan plan, List<NodeCard> cards, Path snapshot) throws BakeException {
        if (snapshot == null) {
            return cards;
        }
        byte[] bytes;
        try {
            String problem = EtcdSnapshot.problem(snapshot);
            if (problem != null) {
                throw new BakeException("--restore-from: " + problem, null);
            }
            bytes = Files.readAllBytes(snapshot);
        } catch (IOException e) {
            throw new BakeException("--restore-from: cannot read " + snapshot + ": " + e.getMessage(), e);
        }
        List<NodeCard> out = new ArrayList<>();
        for (NodeCard card : cards) {
            if (card.node().equals(plan.firstControlPlane())) {
                FileTree boot = FileTree.builder().addAll(card.bootFiles().files())
                        .add(new NodeFile(BOOT_FILE, bytes, NodeFile.SECRET)).build();
                card = new NodeCard(card.node(), card.profile(), boot, card.nodeFiles());
            }
            out.add(card);
        }
        return out;
    }
}
