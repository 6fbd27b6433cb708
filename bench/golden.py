"""Golden comparison of everything ingest produces, to prove a speed-up changes no output.

    python -m bench.golden write OUT.json   # record the current output
    python -m bench.golden check OUT.json   # list every difference from the recording

Runs ``prepare_issue`` (what ingest runs, in process or in a worker) over every issue file of the corpus (/tmp/c4k and every *.xml under
/work/shared/samples, bad/ included: a failing file records its error message) with two
crosswalk settings, then over hostile variants: issue files whose text leaves are wrapped in
odd whitespace, invisible characters, entities and markup, and Article objects (as a stored
JSON could hold them) carrying XML-illegal characters. Per article it records a sha256 of every
output field: identifier, keys, article JSON, source hash, each rendition, content hash, sets.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import sys
import typing as t
from pathlib import Path

from lxml import etree

from metadata_formats import CrosswalkSettings
from oaiserver.model import Article
from oaiserver.ingest.prepare import PrepareConfig, Prepared, oai_identifier, prepare_article, prepare_issue
from oaiserver.storage.packing import unpack, unpack_article

CORPUS = (Path("/tmp/c4k"), Path("/work/shared/samples"))
REPOSITORY = "oaiserver.localhost"
FINGERPRINT = "golden-fingerprint"
SETTINGS = {
    "default": CrosswalkSettings(),
    "full": CrosswalkSettings(
        publisher="Golden Press", rights="info:eu-repo/semantics/openAccess",
        license_url="https://creativecommons.org/licenses/by-nc/4.0/",
        emit_corresponding_email=False,
        article_types={"original article": "research-article", "Nursing": "editorial"},
        journal_ids={"2008-1375": "jms-one"},
    ),
}
#: Files of the corpus that also get hostile variants (the samples, and a few per journal).
MUTANTS_PER_JOURNAL = 2
MUTANT_SEEDS = (1, 2)

# Edge and inner noise for hostile variants: every Unicode whitespace character legal in XML,
# the invisible characters, C1 controls, dashes, and text that looks like markup or entities.
_XML_SPACES = [c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x0b\x0c\x1c\x1d\x1e\x1f"]
_NOISE = _XML_SPACES + [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\x85", "\x9f", "\x80", "-", "---",
    "\u2010", "\u2015", "&nbsp;", "&#1;", "&#x0b;", "&#65534;", "&amp;", "<i>x</i>", "<b>",
    " :", "\uff1a", "Iran", ", Iran.", "ایران", "\u064a\u0643", "۱۲", " ", "  ", "\n\n",
    "<p>", "</p>", "<br>", "<script>x</script>", "<table><td>c</td></table>",
]
# What a stored article JSON may hold that no parsed file can: characters XML 1.0 forbids.
_ILLEGAL = ["\x00", "\x01", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\x7f", "\t", "\r"]


# ---------------------------------------------------------------------------- recording


def sha(value: t.Any) -> str:
    """Return the sha256 (hex) of a value's text (UTF-8 bytes decoded; ``repr`` for the rest)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    text = value if isinstance(value, str) else repr(value)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def article_record(prepared: Prepared) -> dict[str, str]:
    """Return the hashes of every output field of one prepared article."""
    record = {
        "identifier": sha(prepared.identifier),
        "journal_key": sha(prepared.journal_key),
        "article_key": sha(prepared.article_key),
        "article_json": sha(unpack_article(prepared.identifier, prepared.article_json).encode()),
        "source_hash": sha(prepared.source_hash),
    }
    rendered = prepared.rendered
    if rendered is not None:
        record["content_hash"] = sha(rendered.content_hash)
        record["sets"] = sha([dataclasses.astuple(s) for s in rendered.sets])
        record["formats"] = sha(sorted(rendered.renditions))
        for prefix, stored in rendered.renditions.items():
            record[f"rendition:{prefix}"] = sha(unpack(prepared.identifier, stored.data))
    return record


def file_records(name: str, data: bytes, settings: CrosswalkSettings) -> dict[str, t.Any]:
    """Return ``{key: record}`` for one issue file (or its error message)."""
    try:
        prepared = prepare_issue(data, PrepareConfig(REPOSITORY, settings, FINGERPRINT))
    except Exception as error:  # noqa: BLE001 - the message is part of the output
        return {name: {"error": f"{type(error).__name__}: {error}"}}
    records: dict[str, t.Any] = {name: {"issue_key": sha(prepared.key)}}
    for index, article in enumerate(prepared.articles):
        records[f"{name}#{index}"] = article_record(article)
    return records


def object_records(name: str, articles: t.Sequence[Article], settings: CrosswalkSettings) -> dict:
    """Return ``{key: record}`` for Article objects rendered directly (as reindex does)."""
    records: dict[str, t.Any] = {}
    for index, article in enumerate(articles):
        key = f"{name}#{index}"
        try:
            prepared = prepare_article(article, oai_identifier(REPOSITORY, article),
                                       PrepareConfig(REPOSITORY, settings, FINGERPRINT))
        except Exception as error:  # noqa: BLE001
            records[key] = {"error": f"{type(error).__name__}: {error}"}
            continue
        records[key] = article_record(prepared)
    return records


# ---------------------------------------------------------------------------- inputs


def corpus_files() -> list[tuple[str, Path]]:
    """Every issue file of the corpus, by a stable name."""
    found = []
    for base in CORPUS:
        for path in sorted(base.rglob("*.xml")):
            found.append((f"{base.name}/{path.relative_to(base)}", path))
    return found


def mutant_sources(files: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """The samples (bad/ excepted) and the first few files of each corpus journal."""
    chosen, per_dir = [], {}
    for name, path in files:
        if "/bad/" in name:
            continue
        directory = str(path.parent)
        per_dir[directory] = per_dir.get(directory, 0) + 1
        if name.startswith("samples/") or per_dir[directory] <= MUTANTS_PER_JOURNAL:
            chosen.append((name, path))
    return chosen


def noise(rng: random.Random, pool: t.Sequence[str]) -> str:
    """Return 0-3 random noise pieces."""
    return "".join(rng.choice(pool) for _ in range(rng.choice((0, 0, 1, 2, 3))))


def mutate_file(data: bytes, seed: int) -> bytes | None:
    """Wrap and salt every text leaf of an issue file with noise; None if it does not parse."""
    rng = random.Random(seed)
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, load_dtd=False))
    except etree.XMLSyntaxError:
        return None
    for element in root.iter():
        if not isinstance(element.tag, str) or len(element):
            continue
        text = element.text or ""
        if rng.random() < 0.15:
            words = text.split(" ")
            spot = rng.randrange(len(words))
            words[spot] = noise(rng, _NOISE) + words[spot]
            text = " ".join(words)
        element.text = noise(rng, _NOISE) + text + noise(rng, _NOISE)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def mutate_value(value: t.Any, rng: random.Random) -> t.Any:
    """Return a model value with hostile characters wrapped around and into its strings."""
    if isinstance(value, str):
        pool = _NOISE + _ILLEGAL
        if rng.random() < 0.3:
            spot = rng.randrange(len(value) + 1)
            value = value[:spot] + rng.choice(_ILLEGAL) + value[spot:]
        return noise(rng, pool) + value + noise(rng, pool)
    if isinstance(value, tuple):
        return tuple(mutate_value(v, rng) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.name in ("key", "calendar"):
                continue  # keys are checked safe by the parser; a mutated one only moves the id
            changes[f.name] = mutate_value(getattr(value, f.name), rng)
        return dataclasses.replace(value, **changes)
    return value


def hostile_articles(datas: list[tuple[str, bytes]], seed: int) -> list[Article]:
    """Articles of the given files with XML-illegal characters in every kind of field."""
    from oaiserver.ingest.parsing import parse_issue

    rng = random.Random(seed)
    found = []
    for _, data in datas:
        try:
            issue = parse_issue(data)
        except Exception:  # noqa: BLE001
            continue
        found.extend(mutate_value(a, rng) for a in issue.articles[:3])
    return found


# ---------------------------------------------------------------------------- run


def collect() -> dict[str, t.Any]:
    """Run every input through ingest and return all records."""
    files = corpus_files()
    datas = [(name, path.read_bytes()) for name, path in files]
    mutants = []
    for name, path in mutant_sources(files):
        for seed in MUTANT_SEEDS:
            mutated = mutate_file(path.read_bytes(), seed)
            if mutated is not None:
                mutants.append((f"mutant{seed}:{name}", mutated))
    records: dict[str, t.Any] = {}
    for label, settings in SETTINGS.items():
        for name, data in datas + mutants:
            records.update(file_records(f"{label}:{name}", data, settings))
        for seed in MUTANT_SEEDS:
            hostile = hostile_articles(mutants, seed)
            records.update(object_records(f"{label}:hostile{seed}", hostile, settings))
    return records


def compare(old: dict[str, t.Any], new: dict[str, t.Any]) -> list[str]:
    """Return one line per difference between two recordings."""
    lines = [f"missing now: {k}" for k in old if k not in new]
    lines += [f"new now: {k}" for k in new if k not in old]
    for key in old.keys() & new.keys():
        if old[key] != new[key]:
            fields = sorted(f for f in old[key].keys() | new[key].keys()
                            if old[key].get(f) != new[key].get(f))
            detail = old[key].get("error") or new[key].get("error") or ""
            lines.append(f"differs: {key}: {', '.join(fields)} {detail}".rstrip())
    return sorted(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: write or check a golden recording."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    records = collect()
    errors = sum(1 for r in records.values() if "error" in r)
    articles = sum(1 for r in records.values() if "article_json" in r)
    summary = f"{len(records)} records, {articles} articles, {errors} errors"
    if args.action == "write":
        args.path.write_text(json.dumps(records, sort_keys=True, indent=0))
        print(f"wrote {args.path}: {summary}")
        return 0
    differences = compare(json.loads(args.path.read_text()), records)
    for line in differences:
        print(line)
    print(f"checked {summary}: {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
