package io.gyre.examples.bank;

/**
 * Money was put into an account.
 *
 * @param accountId the account
 * @param amount    the amount in cents
 */
public record Deposited(String accountId, long amount) {
}
