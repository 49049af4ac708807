"""`assessments sims`: every simulator in one process, as the whole stack runs them."""

from __future__ import annotations

import signal

import httpx

from embedded import SIMULATORS, Stack, settings_on_free_ports


def test_one_process_serves_every_simulator_and_a_sigterm_stops_them_all(tmp_path):
    settings = settings_on_free_ports(tmp_path)
    stack = Stack(settings, log_dir=tmp_path / "logs")
    try:
        stack.start_components("simulators")  # waits until each simulator's port listens
        process = stack.processes["simulators"]
        urls = [getattr(settings, url_setting) for _, url_setting in SIMULATORS.values()]
        # Each port serves its own simulator: a page only that one has answers there.
        own_pages = {
            settings.sr_base_url: "/",
            settings.sandbox_vendor_url: "/outbox",
            settings.hackerrank_sim_url: "/_sim/outbox",
            settings.checkr_sim_url: "/_sim/outbox",
            settings.testgorilla_sim_url: "/_sim/outbox",
            settings.reference_vendor_url: "/_sim/webhooks",
        }
        assert sorted(own_pages) == sorted(urls)
        for url, page in own_pages.items():
            assert httpx.get(f"{url}{page}", timeout=10).status_code == 200, url
        other_page = httpx.get(f"{settings.sandbox_vendor_url}/_sim/outbox", timeout=10)
        assert other_page.status_code == 404

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0  # all six stopped in time, none left holding on
        for url in urls:
            try:
                httpx.get(url, timeout=2)
            except httpx.ConnectError:
                continue
            raise AssertionError(f"{url} still answers after the process stopped")
        assert "Traceback" not in (tmp_path / "logs" / "simulators.log").read_text()
    finally:
        stack.stop()
