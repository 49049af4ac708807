"""What a peer's Retry-After can make us do: wait as asked, at most a day, never crash the retry."""

from datetime import timedelta

import pytest

from peers import MAX_RETRY_AFTER_SECONDS, retry_after_seconds


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (
            "9" * 5000,
            MAX_RETRY_AFTER_SECONDS,
        ),  # past int()'s digit limit: float() reads it as infinity
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_SECONDS),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_a_retry_after_header_is_a_wait_a_timer_can_hold(header, seconds):
    parsed = retry_after_seconds(header)
    assert parsed == seconds
    if parsed is not None:
        assert timedelta(seconds=parsed) <= timedelta(
            days=1
        )  # what the activity's retry delay is made of
