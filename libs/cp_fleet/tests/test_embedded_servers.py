"""Real round trips against each embedded server, through the session fixtures."""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from cp_fleet.embedded import EmbeddedInfra, RedisServer, find_free_port
from cp_fleet.processes import ServerProcess, ServerStartError, processes_of_state_dir
from cp_fleet.readiness import NotReady, kafka_api_versions, redis_ping


async def test_postgres_round_trip(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("select current_database()") == "cryptopredict"
        await conn.execute("create temporary table t (id int primary key, note text)")
        await conn.execute("insert into t values (1, 'one'), (2, 'two')")
        assert await conn.fetchval("select string_agg(note, ',' order by id) from t") == "one,two"
        assert (await conn.fetchval("show server_version")).startswith("18")
    finally:
        await conn.close()


async def test_fresh_databases_are_isolated(fresh_database) -> None:
    first, second = fresh_database("iso"), fresh_database("iso")
    assert first != second
    a = await asyncpg.connect(first)
    b = await asyncpg.connect(second)
    try:
        await a.execute("create table only_in_first (id int)")
        assert await a.fetchval("select to_regclass('only_in_first') is not null")
        assert await b.fetchval("select to_regclass('only_in_first') is null")
    finally:
        await a.close()
        await b.close()


async def test_redis_round_trip(redis_url: str, unique_name) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.ping() is True
        key = unique_name("key")
        await client.set(key, "value", ex=30)
        assert await client.get(key) == b"value"
        assert 0 < await client.ttl(key) <= 30
    finally:
        await client.aclose()


async def test_kafka_produce_consume_with_group_commit(kafka_bootstrap_servers: str, unique_name) -> None:
    topic, group = unique_name("topic"), unique_name("group")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(
                topic, f"m{i}".encode(), key=b"BTC", headers=[("event-id", b"%d" % i)]
            )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        got = []
        for _ in range(2):
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
            got.append((record.value, dict(record.headers)["event-id"]))
        partition = TopicPartition(topic, record.partition)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert got == [(b"m0", b"0"), (b"m1", b"1")]

    # The group's committed offset survives the member: a consumer of the same group resumes there.
    # (Manual assignment: a second group *join* would wait out the old member's session timeout.)
    resumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap_servers, group_id=group)
    await resumer.start()
    try:
        resumer.assign([partition])
        assert await resumer.committed(partition) == 2
        resumer.seek(partition, 2)
        record = await asyncio.wait_for(resumer.getone(), timeout=30)
        assert record.value == b"m2"
    finally:
        await resumer.stop()


async def test_kafka_broker_lacks_idempotent_producer(kafka_bootstrap_servers: str, unique_name) -> None:
    """Documents a known limit of the embedded broker (no InitProducerId). If this starts failing,
    the broker gained support: update the notes in cp_fleet.embedded and the architecture."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, enable_idempotence=True)
    try:
        with pytest.raises(KafkaError):
            await asyncio.wait_for(producer.start(), timeout=30)
            await asyncio.wait_for(producer.send_and_wait(unique_name("idem"), b"x"), timeout=30)
    finally:
        await producer.stop()


async def test_nginx_serves_http(run_nginx, free_port) -> None:
    port = free_port()
    config = f"""
pid nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    server {{
        listen 127.0.0.1:{port};
        location = /health {{ return 200 "up"; }}
        location / {{ return 418 "teapot"; }}
    }}
}}
"""
    nginx = run_nginx(config, port)
    async with httpx.AsyncClient(base_url=nginx.url) as client:
        assert (await client.get("/health")).text == "up"
        other = await client.get("/anything")
        assert other.status_code == 418
        assert other.headers["server"].startswith("nginx")
        nginx.stop()
        with pytest.raises(httpx.ConnectError):
            await client.get("/health", timeout=2)


def test_given_variables_start_nothing(tmp_path: Path) -> None:
    given = {
        "DATABASE_URL": "postgresql://u@db.example:5432/x",
        "REDIS_URL": "redis://cache.example:6379/0",
        "KAFKA_BOOTSTRAP_SERVERS": "kafka.example:9092",
    }
    with EmbeddedInfra(tmp_path, environ=given) as infra:
        assert infra.start().as_env() == given
        assert infra.running == {}
    assert not (tmp_path / "logs").exists()


def test_stop_leaves_no_process_behind() -> None:
    state_dir = Path(tempfile.mkdtemp(prefix="cp-stop-test-"))
    state_dir.chmod(0o755)
    infra = EmbeddedInfra(state_dir, environ={}, durable=False)
    try:
        endpoints = infra.start()
        assert endpoints.database_url.startswith("postgresql://")
        pids = [p.pid for p in infra.running.values() if p.pid is not None]
        assert len(pids) == 3
        # postgres forks helpers (checkpointer, walwriter, ...): they must be found and stopped too
        assert len(processes_of_state_dir(state_dir)) > 3
    finally:
        infra.stop()
        leftovers = processes_of_state_dir(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
    assert leftovers == []
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids)


def test_server_that_cannot_bind_fails_with_its_log(cp_state_dir: Path, redis_url: str) -> None:
    taken_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    server = RedisServer(cp_state_dir / "redis-clash", taken_port)
    server.prepare()
    process = ServerProcess(server.command(), cp_state_dir / "logs" / "redis-clash.log", cp_state_dir)
    process.start()
    with pytest.raises(ServerStartError, match="exited with code"):
        process.wait_ready(10)
    assert "Address already in use" in (cp_state_dir / "logs" / "redis-clash.log").read_text()
    process.stop()


def test_probes_report_what_is_missing() -> None:
    port = find_free_port()
    with pytest.raises(NotReady, match="ApiVersions request failed"):
        kafka_api_versions("127.0.0.1", port)()
    with pytest.raises(NotReady, match="PING failed"):
        redis_ping(f"redis://127.0.0.1:{port}/0")()


def test_stop_kills_a_server_that_ignores_its_stop_signal(cp_state_dir: Path) -> None:
    """A process that ignores SIGTERM is SIGKILLed after the stop timeout, with its children."""
    from cp_fleet.processes import ServerCommand
    from cp_fleet.readiness import ReadinessCheck

    script = (
        "import signal, subprocess, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "subprocess.Popen(['sleep', '300']); time.sleep(300)"
    )
    command = ServerCommand(
        name="stubborn",
        argv=("python", "-c", script),
        readiness=ReadinessCheck("always", lambda: None),
        stop_signal=signal.SIGTERM,
        stop_timeout_s=1,
    )
    process = ServerProcess(command, cp_state_dir / "logs" / "stubborn.log", cp_state_dir)
    process.start()
    process.wait_ready(5)
    leader = process.pid
    assert leader is not None
    process.stop()
    assert not psutil.pid_exists(leader) or psutil.Process(leader).status() == "zombie"
    leftovers = [p for p in processes_of_state_dir(cp_state_dir) if "sleep" in p.name()]
    assert leftovers == []
