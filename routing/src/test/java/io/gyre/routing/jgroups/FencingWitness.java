package io.gyre.routing.jgroups;

import io.gyre.eventstore.TrackingToken;
import io.gyre.processing.SegmentToken;
import io.gyre.processing.StaleSegmentOwnerException;
import io.gyre.processing.TokenStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A token store that watches the one it wraps: per segment, the owner and epoch of every claim and token update it
 * let through, in order. A successful update under an older epoch than one already let through, or under another
 * owner at the same epoch, would mean two owners advanced one segment: it is recorded as a violation. Refusals are
 * counted.
 */
final class FencingWitness implements TokenStore {

    private record Holder(String owner, long epoch) {
    }

    private final TokenStore delegate;
    private final Map<String, Holder> newest = new HashMap<>();
    private final List<String> violations = new ArrayList<>();
    private long refusals;

    FencingWitness(TokenStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public void initialize(String processor, int segments) {
        delegate.initialize(processor, segments);
    }

    @Override
    public TrackingToken claim(String processor, int segment, String owner, long epoch) {
        synchronized (this) {
            try {
                TrackingToken token = delegate.claim(processor, segment, owner, epoch);
                witness(processor, segment, owner, epoch, "claim");
                return token;
            } catch (StaleSegmentOwnerException e) {
                refusals++;
                throw e;
            }
        }
    }

    @Override
    public void update(String processor, int segment, String owner, long epoch, TrackingToken token) {
        synchronized (this) {
            try {
                delegate.update(processor, segment, owner, epoch, token);
                witness(processor, segment, owner, epoch, "update");
            } catch (StaleSegmentOwnerException e) {
                refusals++;
                throw e;
            }
        }
    }

    private void witness(String processor, int segment, String owner, long epoch, String what) {
        String key = processor + "/" + segment;
        Holder before = newest.get(key);
        if (before != null && (epoch < before.epoch() || epoch == before.epoch() && !owner.equals(before.owner()))) {
            violations.add(what + " of segment " + key + " by " + owner + " at epoch " + epoch + " after " + before);
        }
        if (before == null || epoch >= before.epoch()) {
            newest.put(key, new Holder(owner, epoch));
        }
    }

    @Override
    public void release(String processor, int segment, String owner, long epoch) {
        delegate.release(processor, segment, owner, epoch);
    }

    @Override
    public List<SegmentToken> tokens(String processor) {
        return delegate.tokens(processor);
    }

    /** @return the owner the store holds for each segment */
    Map<Integer, String> owners(String processor) {
        Map<Integer, String> owners = new TreeMap<>();
        for (SegmentToken row : tokens(processor)) {
            if (row.owner() != null) {
                owners.put(row.segment(), row.owner());
            }
        }
        return owners;
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    synchronized long refusals() {
        return refusals;
    }
}
