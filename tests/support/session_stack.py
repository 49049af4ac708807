"""The settings the session's stack (tests/conftest.py) runs with that tests depend on."""

from __future__ import annotations

ADMIN_KEY = "test-admin-key"
# Short enough for a test to see it pass; the package is only used by the expiry test.
EXPIRING_PACKAGE = "logic-quiz"
EXPIRY_DAYS = 8 / 86400  # eight seconds
# An order SR refuses us for gives up this soon (tests/e2e/test_sr_refusing.py).
SR_REFUSAL_GIVE_UP_DAYS = 15 / 86400
