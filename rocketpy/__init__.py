"""rocketpy: a wire-compatible Apache RocketMQ 4.x NameServer and Broker in Python."""

__version__ = "0.1.0"
