"""Build compliance/data/agencies.json from the gazetteers in extract/data/.

The checklist names the agency that issues or verifies each item (the state board by name,
the specialty boards, the life-support bodies); `compliance` may not import `extract`, so
the names it needs are copied here once. Run again after the gazetteers change:

    python scripts/make_agencies.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "extract" / "data"
TARGET = ROOT / "compliance" / "data" / "agencies.json"


def build() -> dict[str, Any]:
    """The states' boards (the first listed is the one that licenses physicians / nurses)."""
    states = json.loads((SOURCE / "states.json").read_text(encoding="utf-8"))["states"]
    boards = json.loads((SOURCE / "boards.json").read_text(encoding="utf-8"))["boards"]
    bodies = json.loads((SOURCE / "life_support.json").read_text(encoding="utf-8"))["bodies"]
    return {
        "_about": "Made by scripts/make_agencies.py from extract/data/ (do not edit by hand).",
        "states": {
            s["code"]: {
                "name": s["name"],
                "medical_board": (s.get("medical_boards") or [None])[0],
                "nursing_board": (s.get("nursing_boards") or [None])[0],
                "pa_board": next(
                    (b for b in s.get("medical_boards", []) if "Physician Assistant" in b), None
                ),
            }
            for s in states
        },
        "specialty_boards": sorted(b["name"] for b in boards),
        "life_support_bodies": [b["name"] for b in bodies],
    }


def main() -> None:
    TARGET.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
