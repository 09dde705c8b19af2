package io.gyre.aggregate.internal;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.jsontype.BasicPolymorphicTypeValidator;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.gyre.serialization.SerializationException;
import io.gyre.serialization.Upcasters;
import io.gyre.snapshot.Snapshot;
import java.util.Objects;

/**
 * An aggregate's state as JSON, for snapshots, and the version of its class a snapshot must have been written by
 * to be read back: the class name, its {@code @Revision} and its {@link Shape}.
 *
 * <p>The state is every non-static, non-transient field, read and written directly (aggregates have no getters and
 * setters); a snapshot is read into an instance made by the aggregate's own no-argument constructor. Unknown
 * properties fail the read rather than being dropped, and no JSON may name a class to instantiate. Internal: not
 * part of Gyre's API.
 *
 * @param <A> the aggregate class
 */
public final class AggregateState<A> {

    private final AggregateModel<A> model;
    private final String shape;
    private final int revision;
    private final ObjectWriter writer;
    private final ObjectMapper mapper;

    /**
     * @param model  the aggregate's model
     * @param mapper a mapper made by {@link #mapper(ObjectMapper)}
     */
    public AggregateState(AggregateModel<A> model, ObjectMapper mapper) {
        this.model = Objects.requireNonNull(model, "model");
        this.mapper = Objects.requireNonNull(mapper, "mapper");
        this.shape = Shape.of(model.type());
        this.revision = Upcasters.revisionOf(model.type());
        this.writer = mapper.writerFor(model.type());
    }

    /**
     * @param application the application's mapper, with its modules; it is copied
     * @return a mapper for aggregate state: fields only, Gyre's safety settings
     */
    public static ObjectMapper mapper(ObjectMapper application) {
        ObjectMapper mapper = application.copy();
        mapper.registerModule(new JavaTimeModule());
        mapper.registerModule(new Jdk8Module());
        mapper.setVisibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE);
        mapper.setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY);
        // Records nested in the state are made through their canonical constructor.
        mapper.setVisibility(PropertyAccessor.CREATOR, JsonAutoDetect.Visibility.ANY);
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        mapper.disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        mapper.disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        mapper.deactivateDefaultTyping();
        // Denies every class named inside JSON: a snapshot holds only the declared types of the state.
        mapper.setPolymorphicTypeValidator(BasicPolymorphicTypeValidator.builder().build());
        return mapper;
    }

    /** @return the aggregate class's name, stored as the snapshot's type */
    public String type() {
        return model.type().getName();
    }

    /** @return the aggregate class's revision */
    public int revision() {
        return revision;
    }

    /** @return the digest of the aggregate class's serialized fields */
    public String shape() {
        return shape;
    }

    /**
     * @param snapshot a stored snapshot
     * @return true when this version of the class wrote it, so that it can be read
     */
    public boolean writtenByThisVersion(Snapshot snapshot) {
        return snapshot.type().equals(type()) && snapshot.revision() == revision && snapshot.shape().equals(shape);
    }

    /**
     * @param instance an aggregate of this class
     * @return its state as JSON
     * @throws SerializationException when a field cannot be written
     */
    public String write(Object instance) {
        try {
            return writer.writeValueAsString(instance);
        } catch (JsonProcessingException e) {
            throw new SerializationException("Cannot write the state of " + type() + " as a snapshot: "
                    + e.getOriginalMessage(), e);
        }
    }

    /**
     * @param json state written by {@link #write(Object)} of this version of the class
     * @return a new instance holding it
     * @throws SerializationException when the JSON does not fit the class
     */
    public A read(String json) {
        A instance = model.newInstance();
        ObjectReader reader = mapper.readerForUpdating(instance);
        try {
            reader.readValue(json);
            return instance;
        } catch (JsonProcessingException e) {
            throw new SerializationException("A snapshot of " + type() + " does not fit the class: "
                    + e.getOriginalMessage(), e);
        }
    }
}
