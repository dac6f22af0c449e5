"""One-off helper: extract page quotes and rule text per criterion from CRITERIA.md into catalogue_text.py."""

import re
import sys
from pathlib import Path

src = Path(sys.argv[1]).read_text(encoding="utf-8")
sections = re.split(r"^### ", src, flags=re.M)[1:]
out = {}
for sec in sections:
    head, _, body = sec.partition("\n")
    cid = head.strip()
    if not re.match(r"^(inc|sle|iim|ssc|exc)\.", cid):
        if cid.startswith("3.1"):
            cid = "rule_r"
        else:
            continue
    body = body.split("\n## ")[0].split("\n---")[0]
    # bullets at top level
    bullets = re.split(r"^- ", body, flags=re.M)
    page = ""
    rule_bits = []
    for b in bullets:
        b = b.strip()
        m = re.match(r"\*\*([^*]+)\*\*:?\s*(.*)", b, flags=re.S)
        if not m:
            continue
        label, text = m.group(1), m.group(2)
        text = re.sub(r"\s+", " ", text).strip()
        if label == "Page":
            page = text.strip().strip('"').strip("“”")
            page = re.sub(r'^"|"\.?$', "", page)
        elif label in (
            "Applies",
            "Decision",
            "Rule",
            "Parts",
            "Routes",
            "Counting events",
            "Positive",
            "Excepted types",
            "Status of each other event",
            "Score part",
            "Subtype part",
            "Rule, female",
            "Rule, male",
            "Autoimmune lung disease (ALD)",
            "Counting entry",
            "Qualifying entry",
        ):
            # "**Parts**, one per …" reads on without a colon.
            rule_bits.append(f"{label}{text}" if text[:1] in ",." else f"{label}: {text}")
    rule = " ".join(rule_bits)
    rule = rule.replace("**", "").replace("`", "")
    out[cid] = (page, rule)
print('"""Page quotes and rules of CRITERIA.md (catalogue 2025-03-31.2), one entry per criterion."""')
print()
print("CATALOGUE_TEXT: dict[str, tuple[str, str]] = {")
for k, (p, r) in out.items():
    print(f"    {k!r}: (")
    print(f"        {p!r},")
    print(f"        {r!r},")
    print("    ),")
print("}")
