package io.gyre.examples.bench;

import java.util.Arrays;
import java.util.function.LongSupplier;

/** Timing by repetition: the median of many samples, which one pause of the garbage collector does not move. */
final class Medians {

    private Medians() {
    }

    /**
     * @param values any values; not modified
     * @return their median, NaN when there are none
     */
    static double of(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * Runs {@code sample} {@code warmups} times unmeasured, then {@code samples} times, and returns the median of
     * the values it returned (each sample times itself, so setup stays outside the measurement).
     */
    /**
     * @param numerators   one value per round
     * @param denominators one value per round, measured next to the numerator of the same round
     * @return the median of the per-round ratios, which cancels drift between rounds
     */
    static double ofRatios(double[] numerators, double[] denominators) {
        double[] ratios = new double[numerators.length];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = numerators[i] / denominators[i];
        }
        return of(ratios);
    }

    static double median(int warmups, int samples, LongSupplier sample) {
        for (int i = 0; i < warmups; i++) {
            sample.getAsLong();
        }
        long[] values = new long[samples];
        for (int i = 0; i < samples; i++) {
            values[i] = sample.getAsLong();
        }
        Arrays.sort(values);
        return samples % 2 == 1 ? values[samples / 2] : (values[samples / 2 - 1] + values[samples / 2]) / 2.0;
    }
}
