"""Which codec packs renditions best for serving: unpack CPU per record and stored bytes, per codec and format.

    python -m bench.codecs DIR [--articles 1000] [--train DIR2] [--rounds 5] [--out R.json]

Renders the first ``--articles`` articles of DIR in each packed format (storage/packing.py,
every journal open access) and packs them every way compared: LZ4 as stored today (fast mode,
the shipped dictionary of the format), LZ4 without a dictionary and in its high-compression
mode, and, when the ``zstandard`` package is installed (it is not a dependency), zstd with
the same raw dictionary and with one trained on renditions of other articles (``--train``,
default DIR's last 1,500 articles), at fast and default levels, its decompressor made once
with the dictionary prepared. For each: the CPU microseconds to unpack one record and to pack
it (best of ``--rounds`` loops) and the stored bytes. Unpacking is what a harvest pays per
packed record; packing what ingest pays per rendition.
"""
from __future__ import annotations

import argparse
import json
import typing as t
from pathlib import Path

import lz4.block  # type: ignore[import-untyped]

import metadata_formats
from bench.format_cpu import best_us
from bench.format_sizes import read_articles, settings_for
from oaiserver.storage import packing

#: Articles whose renditions a zstd dictionary is trained on.
TRAIN = 1500
#: zstd levels compared: a fast one (no entropy coding of literals) and the default.
ZSTD_LEVELS = (-5, 3)


def lz4_codecs(preset: bytes) -> dict[str, tuple[t.Callable[[bytes], bytes], t.Callable[[bytes], bytes]]]:
    """(pack, unpack) per LZ4 variant."""
    return {
        "lz4 (stored today)": (lambda x: lz4.block.compress(x, dict=preset),
                               lambda s: lz4.block.decompress(s, dict=preset)),
        "lz4, no dictionary": (lz4.block.compress, lz4.block.decompress),
        "lz4 high compression 9": (
            lambda x: lz4.block.compress(x, dict=preset, mode="high_compression", compression=9),
            lambda s: lz4.block.decompress(s, dict=preset)),
    }


def zstd_codecs(preset: bytes, training: list[bytes]) -> dict[str, tuple[t.Callable[[bytes], bytes], t.Callable[[bytes], bytes]]]:
    """(pack, unpack) per zstd variant; none without the zstandard package."""
    try:
        import zstandard  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return {}
    dictionaries = {
        "raw dictionary": zstandard.ZstdCompressionDict(preset, dict_type=zstandard.DICT_TYPE_RAWCONTENT),
        "trained dictionary": zstandard.train_dictionary(len(preset), training),
    }
    found = {}
    for name, dictionary in dictionaries.items():
        for level in ZSTD_LEVELS:
            packer = zstandard.ZstdCompressor(dict_data=dictionary, level=level, write_checksum=False,
                                              write_dict_id=False)
            unpacker = zstandard.ZstdDecompressor(dict_data=dictionary)  # prepared once, as a server would
            found[f"zstd {level}, {name}"] = (packer.compress, unpacker.decompress)
    return found


def compare(folder: Path, articles: int, train_folder: Path | None, rounds: int) -> dict[str, t.Any]:
    """Per format and codec: unpack and pack microseconds per record, stored bytes per record."""
    found = read_articles(folder)
    sample = found[:articles]
    training_articles = read_articles(train_folder)[:TRAIN] if train_folder else found[-TRAIN:]
    result: dict[str, t.Any] = {"articles": len(sample), "formats": {}}
    for prefix in packing.CURRENT:
        fmt = metadata_formats.FORMATS[prefix]

        def rendered(some: list[t.Any]) -> list[bytes]:
            settings = settings_for(some, open_access=True)
            return [x.encode() for x in (fmt.render(a, settings) for a in some) if x is not None]

        xml = rendered(sample)
        preset = packing.dictionary(packing.CURRENT[prefix])
        codecs = {**lz4_codecs(preset), **zstd_codecs(preset, rendered(training_articles))}
        rows = {}
        for name, (pack, unpack) in codecs.items():
            stored = [pack(x) for x in xml]
            assert all(unpack(s) == x for s, x in zip(stored[:20], xml)), name
            rows[name] = {"unpack_us": best_us(unpack, stored, rounds), "pack_us": best_us(pack, xml, rounds),
                          "stored_bytes": round(sum(map(len, stored)) / max(len(stored), 1))}
        result["formats"][prefix] = {"xml_bytes": round(sum(map(len, xml)) / max(len(xml), 1)), "codecs": rows}
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: print (and write) the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--train", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = compare(args.folder, args.articles, args.train, args.rounds)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    for prefix, entry in result["formats"].items():
        print(f"{prefix} ({entry['xml_bytes']} B of XML)")
        for name, row in entry["codecs"].items():
            print(f"  {name:32} unpack {row['unpack_us']:6.2f} us  pack {row['pack_us']:7.2f} us  "
                  f"{row['stored_bytes']:6} B")


if __name__ == "__main__":
    main()
