# Kept apart from the demo loader (screening/demo.py) so the dev launcher can print it without
# loading Django.
DEMO_PASSWORD = "screening-demo-2025"
