# Kubernetes ${cluster.kubernetesVersion.minorVersion()} packages (pkgs.k8s.io), one repository per minor version. Written by
# piimage; 20-install copies it to /etc/apt/sources.list.d/ once the signing key is in place.
deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] https://pkgs.k8s.io/core:/stable:/v${cluster.kubernetesVersion.minorVersion()}/deb/ /
