"""Topic administration: create the topics (and their dead-letter topics) a service uses."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from cp_common.topics import DLQ_SUFFIX, dlq_topic


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int = 3,
    replication_factor: int = 1,
    with_dlq: bool = True,
) -> list[str]:
    """Create missing topics; returns the names that were created."""
    wanted = set(topics)
    if with_dlq:
        wanted |= {dlq_topic(t) for t in list(wanted) if not t.endswith(DLQ_SUFFIX)}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(wanted - existing)
        if missing:
            try:
                await admin.create_topics([NewTopic(t, partitions, replication_factor) for t in missing])
            except TopicAlreadyExistsError:
                pass  # another replica won the race
        return missing
    finally:
        await admin.close()
