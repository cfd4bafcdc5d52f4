/**
 * Small pieces every layer needs once: writing a file by temp-then-rename, deleting a tree, quoting for
 * YAML and the shell, SHA-256, and named daemon thread pools. It depends on nothing of piimage's, so any
 * package may use it.
 */
package io.piimage.util;
