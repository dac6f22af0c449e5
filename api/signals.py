"""API token events, for the security trail (the audit app listens; api imports no audit code).

Every signal carries `tokens` (ApiToken rows) and `request` (None outside a request, for example
`manage.py create_api_token`)."""

from django.dispatch import Signal

token_created = Signal()
token_used = Signal()
token_revoked = Signal()
