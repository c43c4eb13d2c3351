"""A server started from a real Jupyter kernel, through every way a kernel can end
(FIELD_NOTES trap 6): it survives an interrupt and dies with a restart, a shutdown or a kill."""

import time

import pytest
from helpers import wait_until
from jupyter_client.manager import KernelManager

from workbook.processes import processes_tagged

START_SERVER = "from workbook.server import start_server; server = start_server('echo'); print(server.tag)"


def run(client, code, timeout=60):
    """Execute ``code`` in the kernel and return what it printed."""
    printed = []
    reply = client.execute_interactive(
        code,
        timeout=timeout,
        output_hook=lambda message: (
            printed.append(message["content"].get("text", "")) if message["msg_type"] == "stream" else None
        ),
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(printed).strip()


@pytest.fixture
def kernel():
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    if manager.is_alive():
        manager.shutdown_kernel(now=True)


@pytest.mark.timeout(120)
def test_interrupt_keeps_the_server_restart_stops_it(kernel):
    manager, client = kernel
    tag = run(client, START_SERVER)
    assert processes_tagged(tag)
    manager.interrupt_kernel()  # SIGINT to the kernel's process group
    time.sleep(1)
    assert processes_tagged(tag), "an interrupt must not stop the server"
    manager.restart_kernel(now=True)  # the kernel is killed, no clean-up code runs
    assert wait_until(lambda: not processes_tagged(tag)), "orphan after a kernel restart"


@pytest.mark.timeout(120)
def test_shutdown_stops_the_server(kernel):
    manager, client = kernel
    tag = run(client, START_SERVER)
    assert processes_tagged(tag)
    manager.shutdown_kernel(now=False)  # a polite shutdown: atexit stops the server
    assert wait_until(lambda: not processes_tagged(tag)), "orphan after a kernel shutdown"


@pytest.mark.timeout(120)
def test_sigkill_of_the_kernel_stops_the_server(kernel):
    manager, client = kernel
    tag = run(client, START_SERVER)
    manager.provisioner.process.kill()  # SIGKILL
    assert wait_until(lambda: not processes_tagged(tag)), "orphan after SIGKILL of the kernel"
