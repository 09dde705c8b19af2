package io.gyre.examples.bank;

import io.gyre.command.TargetAggregateId;

/**
 * Puts money into an account.
 *
 * @param accountId the account
 * @param amount    the amount in cents, positive
 */
public record Deposit(@TargetAggregateId String accountId, long amount) {
}
