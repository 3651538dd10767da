from notification_testing import (
    RunningNotification,
    TokenIssuer,
    new_signal,
    producer,
    receive_json,
    receive_until,
    ws_connect,
)

from cp_common import topics


async def test_signal_reaches_a_signals_client(
    service: RunningNotification, issuer: TokenIssuer, kafka_bootstrap_servers
) -> None:
    token = issuer.token()
    async with ws_connect(f"{service.ws_url}/api/v1/ws/signals", token) as ws:
        assert ws.subprotocol == "cryptopredict.v1"
        init = await receive_json(ws)
        assert init["type"] == "signals_init"
        change = new_signal("BTC")
        async with producer(kafka_bootstrap_servers) as events:
            await events.publish(topics.SIGNALS.name, change)
        message, _ = await receive_until(
            ws, lambda m: m.get("type") == "new_signal" and m["data"]["signal_id"] == change.signal.signal_id
        )
        assert message["data"]["crypto_symbol"] == "BTC"
