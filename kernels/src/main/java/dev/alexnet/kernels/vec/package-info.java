/**
 * The Vector API kernels: each one has the semantics of its scalar oracle in {@code kernels.ref} and is
 * tested against it. Activations inside a program are channels-last with a constant border
 * ({@link dev.alexnet.kernels.vec.Nhwc}); weights are packed once when a layer is compiled;
 * {@link dev.alexnet.kernels.vec.Reorders} are the explicit conversions at the NCHW boundary. The training
 * kernels ({@link dev.alexnet.kernels.vec.ConvTrainVec}, {@link dev.alexnet.kernels.vec.LinearTrainVec}) work on
 * NCHW and read PyTorch-layout weights on every call (they change every step), through
 * {@link dev.alexnet.kernels.vec.Gemm}.
 *
 * <p>Species come from {@code FloatVector.SPECIES_PREFERRED} (512-bit on AVX-512: L = 16 lanes) and live
 * in {@code static final} fields; vectors stay in locals. Kernels take only native segments (a heap
 * segment through the same code pollutes its type profile). Each kernel takes a range of work units so
 * a {@link dev.alexnet.kernels.vec.ThreadTeam} can split it; none allocates.
 *
 * <p>Dimension letters as in {@code dev.alexnet.kernels}: N batch, C/K input/output channels, H/W and P/Q
 * input/output height/width, R/S kernel height/width, G groups, L vector lanes.
 */
package dev.alexnet.kernels.vec;
