package io.gyre.examples.bank;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Reads the balances read model that {@link BalancesProjection} writes. Every answer is as fresh as the processor:
 * a deposit acknowledged a moment ago may not show yet, and an account opened a moment ago may not be found yet.
 * Thread-safe.
 */
public final class Balances {

    private final DataSource dataSource;

    /** @param dataSource the read model's database */
    public Balances(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * One account's row.
     *
     * @param accountId         the account
     * @param owner             who owns it
     * @param balance           its balance in cents, as of the last event applied
     * @param lastEventPosition the global position of the last event of the account applied to the row
     * @param updatedAt         when that event was applied on the write side
     */
    public record AccountBalance(String accountId, String owner, long balance, long lastEventPosition,
                                 Instant updatedAt) {

        /** Checks every part. */
        public AccountBalance {
            Objects.requireNonNull(accountId, "accountId");
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(updatedAt, "updatedAt");
        }
    }

    /**
     * @param accountId an account
     * @return its row, or empty when the read model has none (unknown, or opened too recently to show yet)
     * @throws SQLException when the read model's database cannot be read
     */
    public Optional<AccountBalance> find(String accountId) throws SQLException {
        Objects.requireNonNull(accountId, "accountId");
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT account_id, owner_name, balance, "
                     + "last_event_position, updated_at FROM " + BalancesProjection.TABLE + " WHERE account_id = ?")) {
            query.setString(1, accountId);
            try (ResultSet row = query.executeQuery()) {
                return row.next() ? Optional.of(map(row)) : Optional.empty();
            }
        }
    }

    /**
     * @return every account's balance, by account id in the table's order
     * @throws SQLException when the read model's database cannot be read
     */
    public Map<String, Long> all() throws SQLException {
        Map<String, Long> balances = new LinkedHashMap<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement query = connection.prepareStatement("SELECT account_id, balance FROM "
                     + BalancesProjection.TABLE + " ORDER BY account_id");
             ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                balances.put(rows.getString(1), rows.getLong(2));
            }
        }
        return balances;
    }

    private static AccountBalance map(ResultSet row) throws SQLException {
        return new AccountBalance(row.getString(1), row.getString(2), row.getLong(3), row.getLong(4),
                row.getObject(5, OffsetDateTime.class).toInstant());
    }
}
