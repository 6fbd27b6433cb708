"""LZ4's C functions called directly (storage/lz4_native.py): the bytes python-lz4 makes and reads,
damaged blocks refused as python-lz4 refuses them, one buffer per thread, python-lz4 where they are missing."""
from __future__ import annotations

import random
import threading
import typing as t

import lz4.block
import pytest

from oaiserver.storage import integrity, lz4_native, packing

#: Renditions-like texts: the dictionary's own markup, varied, non-ASCII, empty and large.
SAMPLES = [
    b"",
    b"<a/>",
    "<mods><titleInfo><title>\u0645\u0642\u0627\u0644\u0647 &amp; \U0001F600</title></titleInfo></mods>".encode() * 40,
    packing.dictionary(packing.CURRENT["mods"])[1000:9000],
    bytes(random.Random(1).getrandbits(8) for _ in range(5000)),  # incompressible
]


@pytest.fixture
def python_lz4_only(monkeypatch) -> t.Iterator[None]:
    """packing.py as where python-lz4's module lacks the C functions: python-lz4's calls alone."""
    monkeypatch.setattr(lz4_native, "library", lambda: None)
    packing._forget_loaded()
    yield
    packing._forget_loaded()


def python_lz4_pack(prefix: str, xml: bytes) -> bytes:
    """A rendition packed as before lz4_native existed: python-lz4's compress."""
    number = packing.CURRENT[prefix]
    return packing.MARKER + number.to_bytes(2, "big") + lz4.block.compress(xml, dict=packing.dictionary(number))


def test_the_c_functions_are_found_and_used():
    """python-lz4's module exports them here: packing.py calls them (else every other test here proves little)."""
    assert lz4_native.library() is not None
    packing._forget_loaded()
    assert all(packing._packer(number).codec is not None for number in packing.DICTIONARIES)


@pytest.mark.parametrize("prefix", sorted(packing.CURRENT))
def test_packs_the_bytes_python_lz4_makes_and_reads_them_back(prefix):
    """Same packed bytes as python-lz4's compress, unpacked to the same XML by both ways."""
    for xml in SAMPLES:
        packed = packing.pack(prefix, xml)
        assert packed == python_lz4_pack(prefix, xml)
        assert packing.unpack("x", packed) == xml


def test_without_the_c_functions_python_lz4_packs_and_unpacks_the_same(python_lz4_only):
    """The fallback: no codec, the same bytes both ways."""
    assert packing._packer(packing.CURRENT["mods"]).codec is None
    for xml in SAMPLES:
        packed = packing.pack("mods", xml)
        assert packed == python_lz4_pack("mods", xml)
        assert packing.unpack("x", packed) == xml


def test_renditions_over_the_buffers_capacity_go_through_python_lz4():
    """Larger than lz4_native.CAPACITY: packed and unpacked all the same (by python-lz4)."""
    xml = b"<mods>" + b"".join(b"<note>%d</note>" % k for k in range(40000)) + b"</mods>"
    assert len(xml) > lz4_native.CAPACITY
    codec = packing._packer(packing.CURRENT["mods"]).codec
    assert codec.compress(xml) is None and codec.decompress(b"", len(xml)) is None
    packed = packing.pack("mods", xml)
    assert packed == python_lz4_pack("mods", xml)
    assert packing.unpack("x", packed) == xml


def python_lz4_unpack(stored: bytes) -> bytes | None:
    """What python-lz4 made of a stored rendition: its XML, or None where it refused the block."""
    try:
        return lz4.block.decompress(stored[3:], dict=packing.dictionary(int.from_bytes(stored[1:3], "big")))
    except lz4.block.LZ4BlockError:
        return None


def test_damaged_blocks_are_refused_or_decoded_as_python_lz4_does():
    """Thousands of blocks with bytes flipped, cut short or sizes changed: DamagedRecord exactly where
    python-lz4 refuses the block, else the same (wrong) bytes, which the rendition's checksum then catches."""
    rng = random.Random(7)
    good = [packing.pack(prefix, xml) for prefix in sorted(packing.CURRENT) for xml in SAMPLES[2:]]
    refused = 0
    for trial in range(3000):
        stored = bytearray(rng.choice(good))
        kind = trial % 4
        if kind == 0:  # flipped bytes in the block
            for _ in range(rng.randint(1, 3)):
                stored[rng.randrange(7, len(stored))] ^= 1 << rng.randrange(8)
        elif kind == 1:  # cut short, possibly inside the size
            del stored[rng.randrange(3, len(stored)):]
        elif kind == 2:  # another size: smaller, a little larger or far larger (up to the capacity)
            size = int.from_bytes(stored[3:7], "little")
            size = rng.choice([0, size - 1, size + 1, size * 3, lz4_native.CAPACITY])
            stored[3:7] = max(size, 0).to_bytes(4, "little")
        else:  # garbage after the head
            stored[7:] = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 300)))
        expected = python_lz4_unpack(bytes(stored)) if len(stored) >= 7 else None
        try:
            got = packing.unpack("oai:x:P-1", bytes(stored))
        except integrity.DamagedRecord as error:
            assert expected is None, f"trial {trial}: python-lz4 decodes what was refused"
            assert "oai:x:P-1" in str(error)
            refused += 1
        else:
            assert got == expected, f"trial {trial}"
    assert refused > 2000  # most damage is refused outright


def test_each_thread_unpacks_in_its_own_buffer():
    """Threads packing and unpacking renditions of different formats at once each get their own bytes."""
    renditions = [(prefix, packing.pack(prefix, xml), xml) for prefix in sorted(packing.CURRENT) for xml in SAMPLES]
    wrong: list[int] = []

    def unpack_all(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(2000):
            prefix, stored, xml = rng.choice(renditions)
            if packing.unpack("x", stored) != xml or packing.pack(prefix, xml) != stored:
                wrong.append(seed)

    threads = [threading.Thread(target=unpack_all, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_thread_switching_formats_unpacks_each_with_its_dictionary():
    """One thread, formats in turn: the buffer's dictionary follows the rendition's."""
    xml = SAMPLES[3]
    for prefix in sorted(packing.CURRENT) * 2:
        assert packing.unpack("x", packing.pack(prefix, xml)) == xml
