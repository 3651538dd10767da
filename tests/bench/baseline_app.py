"""The throughput baseline of ``bench_http``: a bare FastAPI hello-world under uvicorn.

Same interpreter, same uvicorn options as a service (one worker, no access log), nothing else:
no middleware, no envelope, no database. Run as a script with ``HTTP_PORT`` set.
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/bench/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["HTTP_PORT"]),
        log_config=None,
        access_log=False,
        timeout_keep_alive=75,  # as cp_common.service runs a service
    )
