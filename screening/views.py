"""Screening pages. The exports page (URL name screening:exports) is served by audit.views."""
