"""The README's launch command serves JupyterLab with the staged notebooks."""

import httpx
import pytest
from helpers import running_lab


@pytest.mark.timeout(120)
def test_lab_serves_the_notebooks():
    with running_lab("test-token") as (url, output):
        assert any("Demo users: alice, bob and carol" in line for line in output)
        contents = httpx.get(f"{url}/api/contents/notebooks", params={"token": "test-token"}).json()
        names = sorted(item["name"] for item in contents["content"] if item["name"].endswith(".ipynb"))
        assert names[:6] == [
            "00_setup_and_ground_rules.ipynb",
            "01_echo_consumer.ipynb",
            "02_jwt_consumer.ipynb",
            "03_group_chat.ipynb",
            "04_scaling_out.ipynb",
            "05_hardening.ipynb",
        ]
        page = httpx.get(f"{url}/lab", params={"token": "test-token"})
        assert page.status_code == 200 and "JupyterLab" in page.text
