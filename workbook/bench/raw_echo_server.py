"""The baseline for the echo benchmark: a bare ``websockets`` server doing the same JSON work.

python -m workbook.bench.raw_echo_server PORT_FILE
"""

import asyncio
import json
import sys

from websockets.asyncio.server import ServerConnection, serve


async def echo(websocket: ServerConnection) -> None:
    await websocket.send(json.dumps({"message": "WebSocket connected"}))
    async for text in websocket:
        message = json.loads(text)["message"]
        await websocket.send(json.dumps({"message": f"You said: {message}"}))


async def main(port_file: str) -> None:
    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        with open(port_file, "w") as handle:
            handle.write(str(port))
        await asyncio.get_running_loop().create_future()  # run until terminated


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
