package io.gyre.processing.conformance;

/**
 * The payload of the conformance suites' events ({@code Events.event(n)} stores {@code {"n": n}} under the type name
 * "Numbered"), as a class a processor's handler can take.
 *
 * @param n the number
 */
public record Numbered(long n) {
}
