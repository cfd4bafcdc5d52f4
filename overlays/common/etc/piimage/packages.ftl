# Debian packages this node's roles need, one per line (piimage ${piimage.version}, from the
# overlays' package lists). Phase 15-packages installs them, with retries.
<#list packages as package>
${package}
</#list>
