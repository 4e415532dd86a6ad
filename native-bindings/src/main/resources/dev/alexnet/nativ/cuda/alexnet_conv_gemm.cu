// The small-batch convolution alternative (opt-in: -Dalexnet.cuda.conv=auto|gemm), in its own module so that
// the default path never depends on it. Compiled by NVRTC at first use, like alexnet_kernels.cu.
// im2col for the small-batch convolution path (a GEMM per image and group in cuBLAS):
// col[img][ch][r][s][p][q] = x[img][ch][p*stride - pad + r][q*stride - pad + s], 0 in the padding.
// For image img and group g the block starting at ((img*c + g*cg) * ksize*ksize) * P*Q is the row-major
// [cg*ksize*ksize, P*Q] matrix that multiplies that group's weights [kg, cg*ksize*ksize].
extern "C" __global__ void im2col(float* __restrict__ col, const float* __restrict__ x,
                                  int n, int c, int h, int w, int ksize, int stride, int pad, int p, int q) {
    const long long total = (long long)n * c * ksize * ksize * p * q;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        long long t = i;
        const int qq = (int)(t % q); t /= q;
        const int pp = (int)(t % p); t /= p;
        const int s = (int)(t % ksize); t /= ksize;
        const int r = (int)(t % ksize); t /= ksize; // t = img * c + ch
        const int hi = pp * stride - pad + r, wi = qq * stride - pad + s;
        col[i] = (hi >= 0 && hi < h && wi >= 0 && wi < w) ? x[(t * h + hi) * w + wi] : 0.0f;
    }
}
