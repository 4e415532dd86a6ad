/**
 * Kernels on {@link java.lang.foreign.MemorySegment}s: shape records, scalar references ({@code ref})
 * and Vector API versions ({@code vec}).
 *
 * <p>Dimension letters, fixed once: N batch, C input channels, H/W input height/width, K output
 * channels, R/S kernel height/width, P/Q output height/width, G groups. Signatures follow llm.c:
 * outputs, then inputs, then one shape record. Kernels never allocate or own segments.
 */
package dev.alexnet.kernels;
