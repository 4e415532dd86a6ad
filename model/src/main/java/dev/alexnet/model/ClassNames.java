package dev.alexnet.model;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The 1000 ImageNet (ILSVRC-2012) class names, in the usual index order. */
public final class ClassNames {
    /** ImageNet's class count. */
    public static final int COUNT = 1000;
    private static final List<String> NAMES = load();

    private ClassNames() {}

    public static String of(int index) { return NAMES.get(index); }

    private static List<String> load() {
        try (var r = new BufferedReader(new InputStreamReader(ClassNames.class.getResourceAsStream("imagenet_classes.txt"), StandardCharsets.UTF_8))) {
            List<String> names = r.lines().toList();
            if (names.size() != AlexNetSpec.CLASSES) throw new IllegalStateException("expected 1000 class names, found " + names.size());
            return names;
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("imagenet_classes.txt missing from the jar", e);
        }
    }
}
