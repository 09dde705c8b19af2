/**
 * The bank example: an {@code Account} aggregate, its commands and events, the balances read model that a
 * transactional tracking processor keeps ({@code BalancesProjection}, read through {@code Balances}), the HTTP node
 * and a runnable demo.
 */
@NullMarked
package io.gyre.examples.bank;

import org.jspecify.annotations.NullMarked;
