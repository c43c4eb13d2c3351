"""The README's launch command serves JupyterLab with the staged notebooks."""
import re
import subprocess
import sys
import time

import httpx
import pytest


@pytest.mark.timeout(120)
def test_lab_serves_the_notebooks(tmp_path):
    lab = subprocess.Popen(
        [sys.executable, "-m", "workbook", "lab", "--no-browser", "--ServerApp.port=0",
         "--IdentityProvider.token=test-token"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 90
        output = []
        while url is None and time.monotonic() < deadline:
            line = lab.stdout.readline()
            if not line:
                break
            output.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+)/lab", line)
            url = match and match.group(1)
        assert url, "".join(output)
        assert any("demo users alice, bob and carol present" in line for line in output)
        contents = httpx.get(f"{url}/api/contents/notebooks", params={"token": "test-token"}).json()
        names = sorted(item["name"] for item in contents["content"])
        assert [name for name in names if name.endswith(".ipynb")][:4] == [
            "00_setup_and_ground_rules.ipynb", "01_echo_consumer.ipynb",
            "02_jwt_consumer.ipynb", "03_group_chat.ipynb",
        ]
        page = httpx.get(f"{url}/lab", params={"token": "test-token"})
        assert page.status_code == 200 and "JupyterLab" in page.text
    finally:
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
