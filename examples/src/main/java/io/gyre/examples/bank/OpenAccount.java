package io.gyre.examples.bank;

import io.gyre.command.TargetAggregateId;

/**
 * Opens a new account.
 *
 * @param accountId the new account's id
 * @param owner     who owns it
 */
public record OpenAccount(@TargetAggregateId String accountId, String owner) {
}
