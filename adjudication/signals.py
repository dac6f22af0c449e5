"""What the committee's workflow tells the layers above it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent for every password re-entry of an electronic signature, with `user`, `request`, `ok` and
# `meaning`; the audit app records it as a security event and reports repeated failures.
signing_attempted = Signal()
