package io.gyre.processing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Xxh64Test {

    // Published XXH64 values of the reference implementation (as quoted by python-xxhash, ClickHouse and other
    // implementations' tests), covering every tail length path: 0-3 bytes, 4-7, 8-31, and the 32-byte stripes.
    @ParameterizedTest(name = "xxh64(\"{0}\", seed {1}) = {2}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                                            | 0          | ef46db3751d8e999
            a                                             | 0          | d24ec4f1a98c6e5b
            ab                                            | 0          | 65f708ca92d04a61
            abc                                           | 0          | 44bc2cf5ad770999
            ABC                                           | 0          | e66ae7354fcfee98
            xxhash                                        | 0          | 32dd38952c4bc720
            test                                          | 0          | 4fdcca5ddb678139
            test                                          | 123        | 2b81b9401bef86cf
            abcdefghijklmnopqrstuvwxyz12345               | 0          | 467605901b01d6f6
            abcdefghijklmnopqrstuvwxyz12345               | 877380273  | 37b562ec5715e132
            Nobody inspects the spammish repetition       | 0          | fbcea83c8a378bf1
            The quick brown fox jumps over the lazy dog   | 43         | 9a11f5e9468d7425
            ''                                            | 668718853  | 04e830582a31a119
            a                                             | 191961062  | 6e05ba2887c97977
            """)
    void matches_the_reference_implementations_published_values(String input, long seed, String expectedHex) {
        byte[] bytes = input.getBytes(StandardCharsets.US_ASCII);

        assertThat(Xxh64.hash(bytes, 0, bytes.length, seed)).isEqualTo(Long.parseUnsignedLong(expectedHex, 16));
    }

    @ParameterizedTest
    @CsvSource({"0", "1", "3", "4", "7", "8", "31", "32", "33", "63", "64", "65", "100"})
    void a_slice_hashes_like_a_copy_of_it(int length) {
        byte[] data = new byte[length + 10];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        byte[] copy = java.util.Arrays.copyOfRange(data, 3, 3 + length);

        assertThat(Xxh64.hash(data, 3, length, 9)).isEqualTo(Xxh64.hash(copy, 0, length, 9));
    }
}
