"""Reading a store file into a DataFrame of text, whatever its format.

CSV (any common delimiter; UTF-8, or cp1252/latin-1 when the bytes are not
UTF-8), gzipped CSV, Parquet and Excel. Cells come back as strings ('' for
empty) except where the format itself is typed (Parquet, Excel), so that the
validators downstream see exactly what the file said. Rows the CSV parser
cannot split (wrong number of fields) are returned separately, never dropped.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nextdrop.errors import InputError

DELIMITERS = ",;\t|"


@dataclass
class RawTable:
    """What a file holds: its rows, plus rows that could not be split into columns."""

    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    broken_rows: list[tuple[int, str, str]] = field(default_factory=list)  # (row, raw text, reason)


def read_table(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | int = 0) -> RawTable:
    """Read ``path`` by its content and suffix; raise ``InputError`` naming the file on failure."""
    if not path.exists():
        raise InputError(f"{path} not found; check the path")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if ".parquet" in suffixes or ".pq" in suffixes:
            return RawTable(_number_rows(pd.read_parquet(path)))
        if suffixes and suffixes[-1] in {".xlsx", ".xlsm", ".xls"}:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object)
            return RawTable(_number_rows(frame.astype(object).where(frame.notna(), "")))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as {suffixes[-1]} ({exc})") from exc
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: the gzip data is damaged ({exc})") from exc
    if data[:4] == b"PK\x03\x04":
        raise InputError(f"{path}: looks like an Excel/zip file; give it an .xlsx suffix")
    return _read_csv(path, data, encoding, delimiter)


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes decode as such, else cp1252, else latin-1."""
    for candidate in ("utf-8-sig", "cp1252"):
        try:
            data.decode(candidate)
            return candidate
        except UnicodeDecodeError:
            continue
    return "latin-1"


def detect_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines most consistently."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first.count)


def _read_csv(path: Path, data: bytes, encoding: str | None, delimiter: str | None) -> RawTable:
    if not data.strip():
        raise InputError(f"{path} is empty; expected a header row and data rows")
    encoding = encoding or detect_encoding(data)
    text = data.decode(encoding)
    delimiter = delimiter or detect_delimiter(text[:65536])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            na_filter=False, engine="c", skip_blank_lines=True)
        return RawTable(_number_rows(frame), encoding, delimiter)
    except pd.errors.ParserError:
        frame, broken = _read_csv_tolerant(text, delimiter)
        return RawTable(frame, encoding, delimiter, broken)


def _number_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Index rows as a spreadsheet would: the header is row 1, the first data row is row 2."""
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    return frame


def _read_csv_tolerant(text: str, delimiter: str) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Slow path for files with ragged rows: keep the good ones, report the others by row number."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    good: list[list[str]] = []
    rows: list[int] = []
    broken: list[tuple[int, str, str]] = []
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            broken.append((number, delimiter.join(row),
                           f"expected {len(header)} fields, found {len(row)}"))
            continue
        good.append(row)
        rows.append(number)
    frame = pd.DataFrame(good, columns=header, index=pd.Index(rows, name="row"))
    return frame, broken
