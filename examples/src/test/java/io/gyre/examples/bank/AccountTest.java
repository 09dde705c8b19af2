package io.gyre.examples.bank;

import static org.assertj.core.api.Assertions.assertThat;

import io.gyre.aggregate.AggregateAlreadyExistsException;
import io.gyre.aggregate.AggregateNotFoundException;
import io.gyre.testing.AggregateFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AccountTest {

    private final AggregateFixture<Account> fixture = AggregateFixture.of(Account.class);
    private final AggregateFixture<Account> opened = fixture.given(new AccountOpened("acc-1", "ann"));
    private final AggregateFixture<Account> funded = opened.given(new Deposited("acc-1", 100));

    @Test
    void open_stores_account_opened_and_returns_the_account_id() {
        fixture.when(new OpenAccount("acc-1", "ann"))
                .expectEvents(new AccountOpened("acc-1", "ann"))
                .expectResult("acc-1")
                .expectState(account -> {
                    assertThat(account.id()).isEqualTo("acc-1");
                    assertThat(account.owner()).isEqualTo("ann");
                    assertThat(account.balance()).isZero();
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void open_without_an_owner_is_refused_and_stores_nothing(String owner) {
        fixture.when(new OpenAccount("acc-1", owner))
                .expectException(IllegalArgumentException.class, "needs an owner")
                .expectNoEvents();
    }

    @Test
    void opening_an_existing_account_is_refused_and_stores_nothing() {
        funded.when(new OpenAccount("acc-1", "bob"))
                .expectException(AggregateAlreadyExistsException.class, "'acc-1'")
                .expectState(account -> {
                    assertThat(account.owner()).isEqualTo("ann");
                    assertThat(account.balance()).isEqualTo(100);
                });
    }

    @Test
    void deposit_stores_deposited_and_returns_the_new_balance() {
        funded.when(new Deposit("acc-1", 50))
                .expectEvents(new Deposited("acc-1", 50))
                .expectResult(150L)
                .expectState(account -> assertThat(account.balance()).isEqualTo(150));
    }

    @Test
    void deposit_to_an_account_that_was_never_opened_is_refused() {
        fixture.when(new Deposit("acc-404", 50))
                .expectException(AggregateNotFoundException.class, "'acc-404'");
    }

    @Test
    void withdraw_within_the_balance_stores_withdrawn_and_returns_the_new_balance() {
        funded.when(new Withdraw("acc-1", 30))
                .expectEvents(new Withdrawn("acc-1", 30))
                .expectResult(70L)
                .expectState(account -> assertThat(account.balance()).isEqualTo(70));
    }

    @Test
    void withdraw_of_the_whole_balance_leaves_zero() {
        funded.when(new Withdraw("acc-1", 100))
                .expectEvents(new Withdrawn("acc-1", 100))
                .expectResult(0L)
                .expectState(account -> assertThat(account.balance()).isZero());
    }

    @Test
    void withdraw_more_than_balance_is_refused_and_stores_nothing() {
        funded.given(new Withdrawn("acc-1", 40))
                .when(new Withdraw("acc-1", 61))
                .expectException(InsufficientFundsException.class, "Account acc-1 has 60 but 61 was requested")
                .expectNoEvents()
                .expectState(account -> assertThat(account.balance()).isEqualTo(60));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void deposit_of_a_non_positive_amount_is_refused_and_stores_nothing(long amount) {
        funded.when(new Deposit("acc-1", amount))
                .expectException(IllegalArgumentException.class, "Amount must be positive, but was " + amount)
                .expectNoEvents()
                .expectState(account -> assertThat(account.balance()).isEqualTo(100));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void withdraw_of_a_non_positive_amount_is_refused_and_stores_nothing(long amount) {
        funded.when(new Withdraw("acc-1", amount))
                .expectException(IllegalArgumentException.class, "Amount must be positive, but was " + amount)
                .expectNoEvents()
                .expectState(account -> assertThat(account.balance()).isEqualTo(100));
    }
}
