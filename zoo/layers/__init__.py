"""Custom Keras layers of the zoo (all serializable under the `zoo>` package)."""
