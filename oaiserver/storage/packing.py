"""Renditions and articles stored packed: an LZ4 block against a preset dictionary, unpacked when read.

Six formats rendered in advance would triple the renditions on disk; most of a rendition is
the format's markup and phrases every record of the format repeats, which a preset
dictionary (sample renditions of that format, shipped in ``dictionaries/``) lets LZ4 replace
with back-references: a rendition shrinks four- to fivefold, and unpacking it costs ~4 us
(about 0.4 ms for a page of 100 records), several times less than zlib's inflate
(decisions.md P11). LZ4's C functions are called directly where python-lz4's module has
them (lz4_native.py: the same bytes, at less CPU), else through python-lz4.

A stored rendition is either the XML itself (UTF-8 TEXT, as every rendition was before packing
existed: such rows are served as they are) or packed: a NUL byte, which XML never contains,
the dictionary's number (two bytes, big-endian), then the LZ4 block with its size in front.
The number names the exact bytes the rendition was packed against: a dictionary, once
shipped, is never changed or removed (its SHA-256 is pinned below and checked when it is
loaded); a better one is added under a new number and used for what is packed from then on.
Two formats are stored as XML: oai_dc, which harvesters take most, and jats, whose pages are
the largest (a harvest of either costs no unpacking; jats rows packed by earlier versions are
still unpacked by its dictionary, number 1). The article JSON that reindex and restore render
again (the records table's ``article``) is packed the same way against a dictionary of its own
(:func:`pack_article`); it is read only by those commands and ``oaiserver verify``, and packing
it is what pays for jats's disk (decisions.md P11).

The CRC-32 stored beside a rendition (integrity.py) is always that of the XML as served, so it
also vouches for the unpacking, and a version of oaiserver from before packing refuses a
packed row (503) instead of sending its bytes.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.resources
import typing as t

from oaiserver.storage.integrity import DamagedRecord

try:
    from oaiserver.storage import lz4_native
except ImportError:  # pragma: no cover - a Python without ctypes: python-lz4's calls alone
    lz4_native = None  # type: ignore[assignment]

#: The first byte of a packed rendition.
MARKER = b"\0"
#: The largest rendition unpacking will make (a damaged size must not allocate gigabytes).
MAX_UNPACKED = 64 * 1024 * 1024


class Dictionary(t.NamedTuple):
    """A preset dictionary: its number in packed renditions, its format, its file and that file's SHA-256."""

    number: int
    prefix: str
    file: str
    sha256: str


#: Every dictionary ever shipped, by number; the highest number of a format packs its renditions.
#: Made by `python -m bench.dictionaries` from renditions of generated articles.
DICTIONARIES: dict[int, Dictionary] = {d.number: d for d in (
    Dictionary(1, "jats", "jats-1.bin",
                   "4406605ebaed533249ce6f90beb1e508d1bcc1da04606ab1f61f46b7bd212abc"),
    Dictionary(2, "oai_openaire", "oai_openaire-1.bin",
                   "8016757fa4840ea1627e4069f7dd0384ab6cd626ca0f863b4063fb8c0daf95f1"),
    Dictionary(3, "datacite", "datacite-1.bin",
                   "de47319cc734625b07f7c9eb02502bc5444b37ba274a7b413a96ee0b1345ba4d"),
    Dictionary(4, "mods", "mods-1.bin",
                   "50ae55e793db242b12566ad7f6bfc121d64e97cc0d2d8b1a1b6ac51aba0ba151"),
    Dictionary(5, "marcxml", "marcxml-1.bin",
                   "02c4c9f52d50afab2886f9e81fdd1068664794ab26bff3d75eea808d283eeba8"),
    Dictionary(6, "article", "article-1.bin",
                   "18f635aa4f2405cec07d7a24302451f45821f72a703ed6c35cc1d7bfd494adcb"),
)}

#: What the dictionaries named "article" pack: the stored article JSON, not a format.
ARTICLE = "article"
#: Formats that have a dictionary but are stored as XML now (decisions.md P11): what is
#: packed with theirs is still unpacked.
AS_XML = frozenset({"jats"})

#: The dictionary each packed format is packed with now.
CURRENT: dict[str, int] = {}
for _d in sorted(DICTIONARIES.values()):
    if _d.prefix != ARTICLE and _d.prefix not in AS_XML:
        CURRENT[_d.prefix] = _d.number
#: The dictionary articles are packed with now.
ARTICLE_DICTIONARY = max(d.number for d in DICTIONARIES.values() if d.prefix == ARTICLE)


@functools.lru_cache(maxsize=1)
def _lz4() -> t.Any:
    # Imported on first use: storage's other modules (and their error classification) load
    # without it, e.g. in a tool that only reads oai_dc rows.
    import lz4.block  # type: ignore[import-untyped]  # no stubs: two calls, bytes in and out

    return lz4.block


@functools.lru_cache(maxsize=None)
def dictionary(number: int) -> bytes:
    """The bytes of dictionary ``number``, checked against its pinned SHA-256 (KeyError if unknown)."""
    entry = DICTIONARIES[number]
    data = importlib.resources.files("oaiserver.storage").joinpath("dictionaries").joinpath(entry.file).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise RuntimeError(f"dictionary {entry.file} is not the one shipped as number {number}: "
                           "a shipped dictionary must never change (add a new one instead)")
    return data


_DamagedBlock: type[Exception] = lz4_native.DamagedBlock if lz4_native is not None else DamagedRecord


class _Packer(t.NamedTuple):
    head: bytes  # what a rendition packed against the dictionary starts with
    preset: bytes
    codec: lz4_native.Codec | None  # None: python-lz4's calls


#: The C decompressor of each dictionary loaded, by the first three bytes of what it unpacks.
_DECOMPRESSORS: dict[bytes, t.Callable[[bytes, int], bytes | None]] = {}


@functools.lru_cache(maxsize=None)
def _packer(number: int) -> _Packer:
    # The dictionary (KeyError if unknown), loaded once: what packs and unpacks against it.
    preset = dictionary(number)
    lib = lz4_native.library() if lz4_native is not None else None
    try:
        codec = lz4_native.Codec(lib, preset) if lib is not None else None
    except OSError:  # LZ4 refused the state's memory: python-lz4's calls will do
        codec = None
    head = MARKER + number.to_bytes(2, "big")
    if codec is not None:
        _DECOMPRESSORS[head] = codec.decompress
    return _Packer(head, preset, codec)


def _forget_loaded() -> None:
    # Load the dictionaries anew on next use (tests: with or without LZ4's C functions).
    _packer.cache_clear()
    _DECOMPRESSORS.clear()


def pack(prefix: str, xml: bytes) -> bytes:
    """What to store for the UTF-8 ``xml`` of a rendition in ``prefix``: packed if the format is packed now."""
    number = CURRENT.get(prefix)
    return xml if number is None else _pack(number, xml)


def pack_article(text: bytes) -> bytes:
    """What to store for an article's JSON (its UTF-8 bytes): packed against the articles' dictionary."""
    return _pack(ARTICLE_DICTIONARY, text)


def _pack(number: int, data: bytes) -> bytes:
    packer = _packer(number)
    if packer.codec is not None:
        packed = packer.codec.compress(data, packer.head)
        if packed is not None:
            return packed
    return packer.head + _lz4().compress(data, dict=packer.preset)


def is_packed(stored: bytes) -> bool:
    """Tell a packed rendition from one stored as XML."""
    return stored[:1] == MARKER


def unpack(identifier: str, stored: bytes, what: str = "a rendition") -> bytes:
    """The XML of a stored rendition (as it is when not packed); :class:`DamagedRecord` if it cannot be unpacked.

    ``what`` names what is unpacked in that error: "a rendition", or "the article".
    """
    if stored[:1] != MARKER:
        return stored
    # The common case in few steps (this runs for every record of a page): a dictionary
    # already loaded, LZ4's C functions at hand, a rendition of usual size.
    decompress = _DECOMPRESSORS.get(stored[:3])
    if decompress is not None and len(stored) >= 7:
        try:
            xml = decompress(stored[7:], int.from_bytes(stored[3:7], "little"))
        except _DamagedBlock:
            raise DamagedRecord(
                f"database disk image is malformed: {what} of {identifier} is damaged") from None
        if xml is not None:
            return xml
    return _unpack(identifier, stored, what)


def unpack_article(identifier: str, stored: str | bytes) -> str:
    """The JSON of a stored article: TEXT as written before articles were packed, or a packed BLOB (:class:`DamagedRecord` if damaged)."""
    if isinstance(stored, str):
        return stored
    try:
        return unpack(identifier, stored, "the article").decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedRecord(f"database disk image is malformed: the article of {identifier} is damaged") from None


def _unpack(identifier: str, stored: bytes, what: str) -> bytes:
    # unpack, all cases: the dictionary loaded (and its codec remembered), python-lz4's call.
    number = int.from_bytes(stored[1:3], "big")
    try:
        packer = _packer(number)  # loaded and checked once, then remembered
    except KeyError:
        raise DamagedRecord(f"database disk image is malformed: {what} of {identifier} is packed "
                            f"with dictionary {number}, which this version of oaiserver does not have") from None
    size = int.from_bytes(stored[3:7], "little")
    if len(stored) < 7 or size > MAX_UNPACKED:
        raise DamagedRecord(f"database disk image is malformed: {what} of {identifier} is damaged")
    try:
        if packer.codec is not None:
            xml = packer.codec.decompress(stored[7:], size)
            if xml is not None:
                return xml
        # A view, not a slice: the block is not copied.
        return _lz4().decompress(memoryview(stored)[3:], dict=packer.preset)
    except (_DamagedBlock, _lz4().LZ4BlockError):
        raise DamagedRecord(f"database disk image is malformed: {what} of {identifier} is damaged") from None
