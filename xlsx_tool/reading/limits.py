"""What the readers refuse to open, and a file's kind told from its first bytes.

Apart from `workbook` so that walking a folder, and a merge of an empty one, need not load the readers.
"""

from __future__ import annotations

from typing import NamedTuple

MB = 1024 * 1024


class Limits(NamedTuple):  # not a frozen dataclass: 0.07 ms to define at start instead of 0.9 ms
    max_file_bytes: int = 20 * MB  # a real form is 10-30 KB
    max_unzipped_bytes: int = 50 * MB
    max_cells: int = 200_000


def sniff(head: bytes) -> str:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return "other"
