# The ClusterConfiguration of ${cluster.name} for kubeadm commands on a control plane other than init
# (kubeadm.k8s.io/v1beta4): `kubeadm kubeconfig user --config` uses it when a re-flashed control plane
# re-creates its bootstrap token. Written by piimage ${piimage.version}; no secrets here.
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: ${q(cluster.name)}
controlPlaneEndpoint: ${q(endpoint.hostPort())}
encryptionAlgorithm: ${cluster.keyAlgorithm.kubeadmName()}
