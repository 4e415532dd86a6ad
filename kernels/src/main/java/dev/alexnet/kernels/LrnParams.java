package dev.alexnet.kernels;

/**
 * Local response normalisation across channels.
 *
 * <p>The paper (section 3.3): {@code b[i] = a[i] / (k + alpha * sum_{j=max(0,i-n/2)}^{min(C-1,i+n/2)} a[j]^2)^beta}.
 * PyTorch, Caffe, oneDNN and cuDNN use {@code alpha / n} in place of {@code alpha}: set
 * {@code alphaOverSize} to get their convention. Paper values: n=5, k=2, alpha=1e-4, beta=0.75, and
 * {@link #libraryAlpha()} converts for the libraries (alpha * n).
 */
public record LrnParams(int size, float k, float alpha, float beta, boolean alphaOverSize) {
    public LrnParams {
        if (size <= 0 || size % 2 == 0) throw new IllegalArgumentException("LRN size must be odd and positive: " + size);
        if (!(k > 0) || !(alpha >= 0) || !(beta > 0)) throw new IllegalArgumentException("bad LRN parameters " + this);
    }

    /** The paper's AlexNet LRN: n=5, k=2, alpha=1e-4, beta=0.75, alpha not divided by n. */
    public static final LrnParams PAPER = new LrnParams(5, 2f, 1e-4f, 0.75f, false);

    /** The factor that multiplies the window's sum of squares. */
    public float scale() { return alphaOverSize ? alpha / size : alpha; }

    /** The alpha to hand to a library that divides by n (oneDNN, cuDNN, PyTorch) to get these semantics. */
    public float libraryAlpha() { return alphaOverSize ? alpha : alpha * size; }
}
