#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] == ["screen"]:
        # The screen command runs the pure engine on files: it signs nothing and needs no key.
        os.environ.setdefault("DJANGO_SECRET_KEY", "unused-by-the-screen-command")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
