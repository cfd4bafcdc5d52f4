/**
 * Disk-image core: the MBR partition table, a small FAT32 engine and the injection of a node's files into
 * the boot partition of a Raspberry Pi base image. Imports no other {@code io.piimage} package.
 *
 * <p>Written here rather than taken from a library because fat32-lib (Maven Central) silently loses
 * files. Refusals are {@link io.piimage.image.ImageException}s thrown before anything is written.
 */
package io.piimage.image;
