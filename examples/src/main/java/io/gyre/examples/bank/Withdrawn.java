package io.gyre.examples.bank;

/**
 * Money was taken out of an account.
 *
 * @param accountId the account
 * @param amount    the amount in cents
 */
public record Withdrawn(String accountId, long amount) {
}
