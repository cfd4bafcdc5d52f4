<#if isFirstControlPlane && cluster.cni.key() == "calico">
# The Tigera operator for Calico, pinned: its CRDs, then the operator itself (applied server-side).
https://raw.githubusercontent.com/projectcalico/calico/v3.30.3/manifests/operator-crds.yaml
https://raw.githubusercontent.com/projectcalico/calico/v3.30.3/manifests/tigera-operator.yaml
</#if>
