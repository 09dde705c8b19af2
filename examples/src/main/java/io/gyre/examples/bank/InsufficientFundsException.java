package io.gyre.examples.bank;

/** A withdrawal asked for more than the balance. A business rule: nothing is stored and nothing is retried. */
public class InsufficientFundsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param accountId the account
     * @param balance   its balance
     * @param requested the amount asked for
     */
    public InsufficientFundsException(String accountId, long balance, long requested) {
        super("Account " + accountId + " has " + balance + " but " + requested + " was requested");
    }
}
