package io.gyre.examples.bank;

import io.gyre.command.TargetAggregateId;

/**
 * Takes money out of an account; refused when the balance is too low.
 *
 * @param accountId the account
 * @param amount    the amount in cents, positive
 */
public record Withdraw(@TargetAggregateId String accountId, long amount) {
}
