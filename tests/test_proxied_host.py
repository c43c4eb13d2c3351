"""Under JupyterHub the page is reached by the hub's public name, which no setting names.

The host is accepted when jupyter-server-proxy forwarded the request for *this* server's
proxy path; any other host, and any other site's Origin, is still refused.
"""

import httpx

from workbook.client import Client, HandshakeRefused
from workbook.server import start_server

HUB_HOST = "hub.example.test:8443"


async def test_the_hub_host_is_learned_from_the_proxy_and_nothing_else():
    with start_server("echo", env={"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"}) as server:
        page = server.url("/test-ws/")
        assert httpx.get(page, headers={"Host": HUB_HOST}).status_code == 400  # DisallowedHost
        forged = {"Host": HUB_HOST, "X-Forwarded-Context": "/user/mallory/proxy/1"}
        assert httpx.get(page, headers=forged).status_code == 400  # not this server's proxy path
        try:
            await Client.connect(server, origin=f"http://{HUB_HOST}")
            raise AssertionError("the hub's Origin was accepted before any proxied request")
        except HandshakeRefused as refused:
            assert refused.status == 403

        proxied = {"Host": HUB_HOST, "X-Forwarded-Context": f"/user/alice/proxy/{server.port}"}
        assert httpx.get(page, headers=proxied).status_code == 200
        async with await Client.connect(server, origin=f"https://{HUB_HOST}") as learner:
            assert await learner.receive() == {"message": "WebSocket connected"}
        for foreign in ("http://evil.example", "http://hub.example.test.evil.example"):
            try:
                await Client.connect(server, origin=foreign)
                raise AssertionError(f"{foreign} was accepted")
            except HandshakeRefused as refused:
                assert refused.status == 403
        assert "Accepting host 'hub.example.test'" in server.log()


def test_off_a_hub_the_proxy_header_changes_nothing(echo_server):
    headers = {"Host": HUB_HOST, "X-Forwarded-Context": f"/user/alice/proxy/{echo_server.port}"}
    assert httpx.get(echo_server.url("/test-ws/"), headers=headers).status_code == 400
