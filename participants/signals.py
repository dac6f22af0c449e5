"""What the signing credentials check tells the layers above it (audit records both)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent for every password re-entry of an electronic signature, with `user`, `request`, `ok` and
# `meaning`; the audit app records it as a security event and reports repeated failures.
signing_attempted = Signal()

# Sent when a signer's second factor is set up (`change="enrolled"`, `user` the signer) or reset
# by an administrator (`change="reset"`, `user` the administrator), with `request` and `detail`;
# the audit app records it as a security event in the same transaction.
second_factor_changed = Signal()
