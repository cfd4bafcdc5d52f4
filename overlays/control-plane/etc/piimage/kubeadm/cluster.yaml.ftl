# The ClusterConfiguration of ${cluster.name} for kubeadm commands on a control plane other than init
# (kubeadm.k8s.io/v1beta4): `kubeadm kubeconfig user --config` uses it when a re-flashed control plane
# re-creates its bootstrap token. Written by piimage ${piimage.version}; no secrets here.
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: ${q(cluster.name)}
# "stable-<minor>" is replaced at boot with the version of the kubeadm that was installed: without a
# version kubeadm would look "stable-1" up on the internet.
kubernetesVersion: ${q(cluster.kubernetesVersion.pinned()?then("v" + cluster.kubernetesVersion.toString(), "stable-" + cluster.kubernetesVersion.minorVersion()))}
controlPlaneEndpoint: ${q(endpoint.hostPort())}
encryptionAlgorithm: ${cluster.keyAlgorithm.kubeadmName()}
