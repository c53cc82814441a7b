"""Reading a store file as a stream of DataFrame chunks of text, whatever its format.

CSV (any common delimiter; UTF-8, or cp1252/latin-1 when the bytes are not
UTF-8), gzipped CSV, Parquet and Excel. Cells come back as strings ('' for
empty) except where the format itself is typed (Parquet, Excel), so that the
validators downstream see exactly what the file said. Rows are indexed by their
row number as a spreadsheet shows it (the header is row 1). Rows the CSV parser
cannot split (wrong number of fields) are returned separately, never dropped.
Files are read in chunks so that memory stays flat however long the file is.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from nextdrop.errors import InputError

DELIMITERS = ",;\t|"
CHUNK_ROWS = 500_000  # rows per chunk when a file streams
FAST_PATH_CHUNKS = 4  # files of up to this many chunks' lines are parsed in one go by pandas (faster)
BLOCK = 1 << 22


@dataclass
class RawTable:
    """One chunk of a file: its rows, plus rows that could not be split into columns."""

    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    broken_rows: list[tuple[int, str, str]] = field(default_factory=list)  # (row, raw text, reason)


def read_table(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | int = 0) -> RawTable:
    """The whole file as one table (for small files: feeds, candidate lists)."""
    chunks = list(iter_table(path, encoding=encoding, delimiter=delimiter, sheet=sheet))
    frame = pd.concat([c.frame for c in chunks]) if len(chunks) > 1 else chunks[0].frame
    broken = [row for c in chunks for row in c.broken_rows]
    return RawTable(frame, chunks[0].encoding, chunks[0].delimiter, broken)


def iter_table(path: Path, *, encoding: str | None = None, delimiter: str | None = None, sheet: str | int = 0,
               chunk_rows: int = CHUNK_ROWS) -> Iterator[RawTable]:
    """Yield ``path`` in chunks of at most ``chunk_rows`` rows; raise ``InputError`` naming the file."""
    if not path.exists():
        raise InputError(f"{path} not found; check the path")
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq", ".xlsx", ".xlsm", ".xls"}:
        check_is_text(path, lambda: path.open("rb"), text=False)
    try:
        if suffix in {".parquet", ".pq"}:
            yield from _iter_parquet(path, chunk_rows)
            return
        if suffix in {".xlsx", ".xlsm", ".xls"}:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object)
            yield RawTable(_number_rows(frame.astype(object).where(frame.notna(), ""), 2))
            return
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as {suffix} ({exc})") from exc
    yield from _iter_csv(path, encoding, delimiter, chunk_rows)


def scan(opener: Callable[[], IO[bytes]]) -> tuple[str, int]:
    """The file's encoding and its number of line breaks, in one pass over the bytes.

    UTF-16 when the file starts with its byte-order mark; UTF-8 (with or without BOM) when every byte decodes
    as such, else cp1252, else latin-1.
    """
    lines = 0
    with opener() as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
            candidates: tuple[str, ...] = ("utf-16",)
        else:
            candidates = ("utf-8-sig", "cp1252")
    for candidate in candidates:
        decoder = codecs.getincrementaldecoder(candidate)()
        lines = 0
        try:
            with opener() as handle:
                for block in iter(lambda h=handle: h.read(BLOCK), b""):
                    decoder.decode(block)
                    lines += block.count(b"\n")
                decoder.decode(b"", final=True)
            return candidate, lines
        except UnicodeDecodeError:
            continue
    return "latin-1", lines


def detect_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines most consistently."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first.count)


def _iter_parquet(path: Path, chunk_rows: int) -> Iterator[RawTable]:
    import pyarrow.parquet as pq

    first_row = 2
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        yield RawTable(_number_rows(frame, first_row))
        first_row += len(frame)


# What a file that is not a table usually is, by its first bytes: named in the error, so the merchant sees
# at once that the wrong file was given (not a list of missing columns with its header bytes as a name).
MAGIC = (
    (b"\x7fELF", "an ELF executable"), (b"MZ", "a Windows executable"), (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"%PDF", "a PDF document"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"), (b"SQLite format 3", "an SQLite database"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"BZh", "a bzip2 archive"), (b"\xfd7zXZ", "an xz archive"),
)
SNIFF_BYTES = 8192


def check_is_text(path: Path, opener: Callable[[], IO[bytes]], *, text: bool = True) -> None:
    """Raise naming the file when its (decompressed) bytes are not a table: an image, a program, an archive.

    ``text=False`` for Excel and Parquet files, which are binary themselves: only known magic bytes count.
    """
    with opener() as handle:
        head = handle.read(SNIFF_BYTES)
    if text and head.startswith(b"PAR1"):
        raise InputError(f"{path}: looks like a Parquet file; give it a .parquet suffix")
    if text and head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path}: looks like an old Excel (.xls) file; give it an .xls suffix")
    what = next((name for magic, name in MAGIC if head.startswith(magic)), None)
    if what is None and text and b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        what = "binary data"  # text never holds NUL bytes (UTF-16, which does, starts with its BOM)
    if what is not None:
        raise InputError(f"{path}: not a CSV, Excel or Parquet file (it looks like {what}); "
                         "give a table: CSV (any delimiter, .gz too), .xlsx or .parquet")


def _binary_opener(path: Path) -> Callable[[], IO[bytes]]:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic[:2] == b"\x1f\x8b":
        return lambda: gzip.open(path, "rb")
    if magic == b"PK\x03\x04":
        raise InputError(f"{path}: looks like an Excel/zip file; give it an .xlsx suffix")
    return lambda: path.open("rb")


def _iter_csv(path: Path, encoding: str | None, delimiter: str | None, chunk_rows: int) -> Iterator[RawTable]:
    opener = _binary_opener(path)
    try:
        check_is_text(path, opener)
        detected, lines = scan(opener)
        encoding = encoding or detected
        with io.TextIOWrapper(opener(), encoding=encoding, newline="") as text:
            sample = text.read(65536)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: the file is damaged ({exc})") from exc
    if not sample.strip():
        raise InputError(f"{path} is empty; expected a header row and data rows")
    delimiter = delimiter or detect_delimiter(sample)
    if lines > FAST_PATH_CHUNKS * chunk_rows:  # pandas' chunked parser can truncate ragged rows silently
        yield from _iter_csv_rows(opener, encoding, delimiter, chunk_rows)
        return
    try:
        with io.TextIOWrapper(opener(), encoding=encoding, newline="") as text:
            frame = pd.read_csv(text, sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
                                engine="c", skip_blank_lines=False)
        yield RawTable(_drop_empty_rows(_number_rows(frame, 2)), encoding, delimiter)
    except pd.errors.ParserError:  # ragged rows: read row by row, keeping the others
        yield from _iter_csv_rows(opener, encoding, delimiter, chunk_rows)


def _number_rows(frame: pd.DataFrame, first_row: int) -> pd.DataFrame:
    """Index rows as a spreadsheet would: the header is row 1, the first data row is row 2."""
    frame.index = pd.RangeIndex(first_row, first_row + len(frame), name="row")
    return frame


def _drop_empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Blank lines (and lines of bare delimiters) carry no data; they are not rows."""
    maybe = frame.iloc[:, 0] == "" if len(frame.columns) else pd.Series(False, index=frame.index)
    if not maybe.any():
        return frame
    empty = maybe & (frame == "").all(axis=1)
    return frame[~empty]


def _unique_names(header: list[str]) -> list[str]:
    """Repeated column names get ``.1``, ``.2`` suffixes, as pandas does."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        count = seen.get(name, 0)
        names.append(f"{name}.{count}" if count else name)
        seen[name] = count + 1
    return names


def _iter_csv_rows(opener: Callable[[], IO[bytes]], encoding: str, delimiter: str, chunk_rows: int
                   ) -> Iterator[RawTable]:
    """Stream rows with the csv module: exact for any length; rows that do not fit the header are reported."""
    with io.TextIOWrapper(opener(), encoding=encoding, newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        header = _unique_names(next(reader))
        numbered = enumerate(reader, start=2)
        while True:
            good: list[list[str]] = []
            rows: list[int] = []
            broken: list[tuple[int, str, str]] = []
            seen = 0
            for number, row in islice(numbered, chunk_rows):
                seen += 1
                if not any(row):
                    continue
                if len(row) == len(header):
                    good.append(row)
                    rows.append(number)
                else:
                    broken.append((number, delimiter.join(row), f"expected {len(header)} fields, found {len(row)}"))
            if not seen:
                return
            columns = list(zip(*good, strict=True)) if good else [()] * len(header)
            frame = pd.DataFrame({name: np.array(col, dtype=object) for name, col in zip(header, columns, strict=True)},
                                 index=pd.Index(rows, name="row"))
            yield RawTable(frame, encoding, delimiter, broken)
