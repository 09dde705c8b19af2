package io.gyre.examples.bank;

/**
 * An account was opened.
 *
 * @param accountId the account
 * @param owner     who owns it
 */
public record AccountOpened(String accountId, String owner) {
}
