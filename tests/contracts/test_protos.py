"""Contract tests: generated code is fresh, the topic registry is complete and every event
round-trips through its topic's codec."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

import cryptopredict
from cp_common import topics
from cp_tools import buf, protogen

# Topics named in the blueprint's service table.
BLUEPRINT_TOPICS = {
    "users.v1",
    "market.candles.v1",
    "market.snapshots.v1",
    "analysis.macro.v1",
    "analysis.sector.v1",
    "analysis.asset.v1",
    "watchlist.suggestions.v1",
    "watchlist.changes.v1",
    "suggestions.reviews.v1",
    "signals.v1",
    "cascade.runs.v1",
    # not in the blueprint's table: the admin service's notifications for the notification service
    "admin.notifications.v1",
}


def _generated_modules() -> list[object]:
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(cryptopredict.__path__, prefix="cryptopredict.")
        if info.name.endswith("_pb2")
    ]


def _fill(message: Message, depth: int = 0) -> Message:
    """Set every field of ``message`` (recursively) to a non-default value."""
    for fd in message.DESCRIPTOR.fields:
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            value_fd = fd.message_type.fields_by_name["value"]
            container = getattr(message, fd.name)
            if value_fd.message_type is None:
                container[f"k-{fd.name}"] = _scalar(value_fd)
            else:
                _fill(container[f"k-{fd.name}"], depth + 1)
        elif fd.message_type is not None:
            if fd.message_type.full_name == "google.protobuf.Timestamp":
                sub = getattr(message, fd.name).add() if _is_repeated(fd) else getattr(message, fd.name)
                sub.FromSeconds(1_700_000_000 + fd.number)
            elif depth < 4:
                sub = getattr(message, fd.name).add() if _is_repeated(fd) else getattr(message, fd.name)
                _fill(sub, depth + 1)
        elif _is_repeated(fd):
            getattr(message, fd.name).append(_scalar(fd))
        else:
            setattr(message, fd.name, _scalar(fd))
    return message


def _is_repeated(fd: FieldDescriptor) -> bool:
    return fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == FieldDescriptor.LABEL_REPEATED


def _scalar(fd: FieldDescriptor) -> object:
    if fd.enum_type is not None:
        return fd.enum_type.values[-1].number
    if fd.type == FieldDescriptor.TYPE_STRING:
        return f"v-{fd.name}"
    if fd.type == FieldDescriptor.TYPE_BOOL:
        return True
    if fd.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 0.5 + fd.number
    if fd.type == FieldDescriptor.TYPE_BYTES:
        return b"\x01"
    return fd.number + 1


def _all_enums(descriptor: Descriptor) -> list[EnumDescriptor]:
    found = list(descriptor.enum_types)
    for nested in descriptor.nested_types:
        found.extend(_all_enums(nested))
    return found


def test_generated_code_is_fresh() -> None:
    diff = protogen.check()
    assert diff.clean, "\n".join(diff.lines())
    assert protogen.main(["--check"]) == 0


def test_check_reports_stale_missing_and_extra_files(tmp_path: Path) -> None:
    committed = tmp_path / "libs"
    shutil.copytree(protogen.OUTPUT_ROOT / "cryptopredict", committed / "cryptopredict")
    events = committed / "cryptopredict" / "events" / "v1"
    (events / "signals_pb2.py").write_text("# hand-edited\n")
    (events / "users_pb2.pyi").unlink()
    (events / "removed_pb2.py").write_text("# from a deleted proto\n")

    diff = protogen.check(committed_root=committed)

    assert diff.changed == ["cryptopredict/events/v1/signals_pb2.py"]
    assert diff.missing == ["cryptopredict/events/v1/users_pb2.pyi"]
    assert diff.extra == ["cryptopredict/events/v1/removed_pb2.py"]

    protogen.sync(out_root=committed)
    assert protogen.check(committed_root=committed).clean


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = protogen.generate(tmp_path / "a")
    second = protogen.generate(tmp_path / "b")
    assert first == second
    assert protogen.compare(tmp_path / "a", tmp_path / "b").clean


def test_registry_covers_exactly_the_blueprint_topics() -> None:
    assert set(topics.all_topics()) == BLUEPRINT_TOPICS


@pytest.mark.parametrize("name", sorted(BLUEPRINT_TOPICS))
def test_topic_maps_to_an_importable_event_message(name: str) -> None:
    message_type = topics.message_type(name)
    module = importlib.import_module(message_type.__module__)
    assert getattr(module, message_type.__name__) is message_type
    assert module.__name__.startswith("cryptopredict.events.v1.")
    assert topics.event_type(name) == message_type.DESCRIPTOR.full_name
    assert topics.event_type(name).startswith("cryptopredict.events.v1.")
    assert topics.topic_for_event_type(topics.event_type(name)).name == name


def test_event_types_are_unique_per_topic() -> None:
    event_types = [topics.event_type(name) for name in topics.all_topics()]
    assert len(set(event_types)) == len(event_types)


@pytest.mark.parametrize("name", sorted(BLUEPRINT_TOPICS))
def test_event_round_trips_and_has_a_key(name: str) -> None:
    topic = topics.get(name)
    event = _fill(topic.message_type())
    payload = event.SerializeToString()

    decoded = topics.decode(name, payload)

    assert decoded == event
    assert decoded.ListFields(), "the sample event should not be empty"
    key = topics.record_key(name, decoded)
    if topic.key_field is None:
        assert key == topics.GLOBAL_KEY
    else:
        assert key and key != topics.GLOBAL_KEY
        assert key.decode().startswith("v-")


def test_key_comes_from_the_entity_field() -> None:
    from cryptopredict.common.v1 import market_pb2 as common_market
    from cryptopredict.events.v1 import market_pb2, signals_pb2

    candle = market_pb2.CandleClosed(
        candle=common_market.Candle(symbol="BTC", interval=common_market.INTERVAL_1H)
    )
    assert topics.record_key("market.candles.v1", candle) == b"BTC"
    signal = signals_pb2.SignalChanged()
    signal.signal.signal_id = "sig-42"
    assert topics.record_key("signals.v1", signal) == b"sig-42"


def test_key_refuses_empty_entity_and_wrong_message_type() -> None:
    from cryptopredict.events.v1 import market_pb2, users_pb2

    with pytest.raises(ValueError, match="user_id"):
        topics.record_key("users.v1", users_pb2.UserChanged())
    with pytest.raises(TypeError):
        topics.record_key("users.v1", market_pb2.CandleClosed())


def test_unknown_topic_and_dlq_names() -> None:
    with pytest.raises(topics.UnknownTopicError):
        topics.message_type("market.candles.v2")
    assert topics.dlq_topic("signals.v1") == "signals.v1.dlq"
    assert topics.SIGNALS.dlq == "signals.v1.dlq"


def test_every_enum_has_an_unspecified_zero_value() -> None:
    modules = _generated_modules()
    enums: list[EnumDescriptor] = []
    for module in modules:
        file_descriptor = module.DESCRIPTOR
        enums.extend(file_descriptor.enum_types_by_name.values())
        for message in file_descriptor.message_types_by_name.values():
            enums.extend(_all_enums(message))
    assert len(enums) >= 15
    for enum in enums:
        zero = enum.values_by_number[0]
        assert zero.name.endswith("_UNSPECIFIED"), enum.full_name
        assert enum.values[0] is zero, enum.full_name


def test_packages_follow_the_directory_layout() -> None:
    for module in _generated_modules():
        file_descriptor = module.DESCRIPTOR
        directory = file_descriptor.name.rsplit("/", 1)[0]
        assert file_descriptor.package == directory.replace("/", "."), file_descriptor.name


def test_buf_lint_passes() -> None:
    binary = buf.find_buf()
    if binary is None:
        pytest.skip("buf is not installed (python -m cp_tools.buf install)")
    result = subprocess.run(
        [str(binary), "lint", buf.PROTO_DIR], cwd=buf.REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
