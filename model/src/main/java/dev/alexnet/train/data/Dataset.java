package dev.alexnet.train.data;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Labelled images for training and evaluation. Image {@code i} is written as float32 channel planes
 * {@code [3, S, S]} (S = {@link #imageSize()}, 227 for AlexNet) in native byte order, ready for the network.
 *
 * <p>{@link #write} and {@link #writeTestCrop} may be called from several threads at once (each call writes only
 * its own destination); what they write depends only on the image index, the augmentation and the random
 * generator passed in. {@link #close()} releases files and memory; no call may follow it.
 */
public interface Dataset extends AutoCloseable {
    /** The paper's input size. */
    int SIZE = 227;
    /** The number of test crops: 4 corners and the centre, then the same five mirrored horizontally. */
    int TEST_CROPS = 10;

    int size();

    int classes();

    List<String> classNames();

    /** The label of image {@code i}, in {@code [0, classes())}. */
    int label(int i);

    /** S: the width and height of every written image. */
    int imageSize();

    /** The augmentation meant for training with this dataset (evaluation always uses {@link Augment#NONE}). */
    Augment defaultAugment();

    /**
     * Writes image {@code i}, preprocessed, as float32 {@code [3,S,S]} at byte offset {@code off} of {@code dst}.
     * For {@link Augment#PAPER}, {@code rng} decides the crop, the flip and the colour noise, drawn in that order;
     * for {@link Augment#NONE} it is not used (may be null).
     */
    void write(int i, MemorySegment dst, long off, Augment aug, SplittableRandom rng);

    /**
     * Writes test crop {@code crop} of image {@code i}: 0 top left, 1 top right, 2 bottom left, 3 bottom right,
     * 4 centre of the base image; 5-9 the same crops mirrored horizontally (the paper's ten-crop evaluation
     * averages the network's softmax over all ten).
     */
    void writeTestCrop(int i, int crop, MemorySegment dst, long off);

    @Override
    default void close() {}
}
