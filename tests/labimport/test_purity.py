"""Reading and mapping are pure: they import no Django, so they run anywhere a file is checked."""

from __future__ import annotations

import subprocess
import sys

from .helpers import REPO


def test_the_core_imports_no_django() -> None:
    code = (
        "import sys; import labimport.reading, labimport.hl7, labimport.mapping, labimport.dryrun; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
