"""Change events over Redis pub/sub, so every web process sees what any worker or web process did."""

from adapters.redis_events.connection import CHANNEL
from adapters.redis_events.feed import RedisEventFeed
from adapters.redis_events.health import RedisPing
from adapters.redis_events.publisher import RedisEventPublisher

__all__ = ["CHANNEL", "RedisEventFeed", "RedisEventPublisher", "RedisPing"]
