package dev.alexnet.train.data;

/**
 * How {@link Dataset#write} turns a stored image into a network input of {@link Dataset#imageSize()} pixels square.
 * The paper's ten evaluation crops are {@link Dataset#writeTestCrop}.
 */
public enum Augment {
    /** Deterministic: the central crop (each dataset's Javadoc says of what). */
    NONE,
    /**
     * The paper's training augmentation (section 4.1): a random crop of the base image (256x256 for photographs),
     * a horizontal flip with probability 1/2, and PCA colour noise where the dataset has colour statistics.
     */
    PAPER
}
