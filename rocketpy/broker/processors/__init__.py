"""Request processors of the broker, one module per request family (AdminBrokerProcessor is split by subject)."""
