"""Change events over Redis pub/sub, so every web process sees what any worker or web process did."""

from rqledger.adapters.redis_events.connection import CHANNEL, channel_for
from rqledger.adapters.redis_events.feed import RedisEventFeed
from rqledger.adapters.redis_events.health import RedisPing
from rqledger.adapters.redis_events.publisher import RedisEventPublisher

__all__ = ["CHANNEL", "channel_for", "RedisEventFeed", "RedisEventPublisher", "RedisPing"]
