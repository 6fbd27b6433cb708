"""Generate a deterministic benchmark corpus: N articles as issue XML files in the real format.

    python -m bench.corpus --articles 100000 --out /tmp/bench-data/corpus-100k [--seed 1]

Several journals, ~20 articles per issue, abstracts as escaped Word-style HTML with Persian
text (ZWNJ, double-escaped entities), 1-6 authors, some real-looking ORCIDs: the shapes of
the real exports. The same seed always gives the same bytes.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

from bench import words
from oaiserver.identifiers import orcid_check_digit

JOURNALS = 8
QUOT = {'"': "&quot;"}


def issn_check(digits7: str) -> str:
    """Return an ISSN NNNN-NNNC with a valid check character."""
    total = sum(int(d) * w for d, w in zip(digits7, range(8, 1, -1)))
    check = (11 - total % 11) % 11
    full = digits7 + ("X" if check == 10 else str(check))
    return f"{full[:4]}-{full[4:]}"


def orcid(rng: random.Random) -> str:
    """Return a random ORCID with a valid ISO 7064 mod 11-2 check character."""
    base = "0000" + "".join(str(rng.randrange(10)) for _ in range(11))
    full = base + orcid_check_digit(base)
    return "-".join(full[i:i + 4] for i in range(0, 16, 4))


def journal(rng: random.Random, index: int) -> dict:
    """Return the journal-level fields of journal ``index``."""
    return {
        "title": f"Journal of Medical Sciences {index + 1}",
        "title_fa": f"مجله علوم پزشکی شماره {index + 1}",
        "host": f"journal{index + 1}.example.ac.ir",
        "issn": issn_check(f"{2008 + index:04d}{rng.randrange(1000):03d}"),
        "issn_online": issn_check(f"{3008 + index:04d}{rng.randrange(1000):03d}"),
        "doi": f"10.22034/jms{index + 1}",
    }


def sentence(rng: random.Random, pool: tuple[str, ...], n: int) -> str:
    """Return ``n`` words of ``pool`` joined by spaces."""
    return " ".join(rng.choice(pool) for _ in range(n))


def abstract_html(rng: random.Random, persian: bool) -> str:
    """Return a structured abstract as the Word-pasted HTML real exports carry."""
    pool, labels = (words.FA_WORDS, words.SECTIONS_FA) if persian else (words.EN_WORDS, words.SECTIONS_EN)
    style = "font-family:nasimYW;" if persian else "font-family:Arial;"
    parts = []
    for label in labels:
        text = sentence(rng, pool, rng.randint(40, 75)) + "."
        if not persian and rng.random() < 0.3:
            text += " The patients&rsquo; outcomes improved."
        lang = ' lang="AR-SA"' if persian else ""
        parts.append(
            f'<span style="line-height:normal"><span style="direction:{"rtl" if persian else "ltr"}">'
            f'<b><span{lang}>{label}</span></b> <span{lang}>{text}</span>'
            f'<span dir="LTR" style="font-size:9.0pt"></span></span></span>'
        )
    tail = "<br>\n&nbsp;" if persian else ""
    return (
        f'<div style="text-align: justify;"><span style="font-size:14px;"><span style="{style}">'
        + "<br>\n".join(parts) + f"</span></span>{tail}</div>"
    )


def author_xml(rng: random.Random, code: int, corresponding: bool) -> str:
    """Return one <author> element (with the real quirks: trailing spaces, fake ORCIDs)."""
    i, j = rng.randrange(len(words.EN_FIRST)), rng.randrange(len(words.EN_LAST))
    aff_en, aff_fa = rng.choice(words.AFFILIATIONS)
    real_orcid = rng.random() < 0.3
    email = f"{words.EN_LAST[j].lower()}{code % 1000}@example.ac.ir" if corresponding else ""
    return (
        "\t<author>\n"
        f"\t<first_name>{words.EN_FIRST[i]} </first_name>\n\t<middle_name></middle_name>\n"
        f"\t<last_name>{words.EN_LAST[j]}</last_name>\n\t<suffix></suffix>\n"
        f"\t<first_name_fa>{words.FA_FIRST[i]}</first_name_fa>\n\t<middle_name_fa></middle_name_fa>\n"
        f"\t<last_name_fa>{words.FA_LAST[j]}</last_name_fa>\n\t<suffix_fa></suffix_fa>\n"
        f"\t<email>{email}</email>\n\t<code>{code}</code>\n"
        f"\t<orcid>{orcid(rng) + ' ' if real_orcid else code}</orcid>\n"
        f"\t<coreauthor>{'Yes' if corresponding else 'No'}\n</coreauthor>\n"
        f"\t<affiliation>{escape(aff_en)}</affiliation>\n"
        f"\t<affiliation_fa>{aff_fa}</affiliation_fa>\n\t </author>\n"
    )


def article_xml(rng: random.Random, j: dict, code: str, first_page: int, author_code: int) -> str:
    """Return one <article> element."""
    subject = rng.choice(words.SUBJECTS)
    ctype = rng.choice(words.CONTENT_TYPES)
    pages = rng.randint(6, 14)
    n_authors = rng.randint(1, 6)
    corresponding = rng.randrange(n_authors)
    doi = f"{j['doi']}.{code}" if rng.random() < 0.5 else ""
    keywords_en = ", ".join(sorted({sentence(rng, words.EN_WORDS, 2).title() for _ in range(4)}))
    keywords_fa = ", ".join(sentence(rng, words.FA_WORDS, 2) for _ in range(4))
    authors = "".join(author_xml(rng, author_code + k, k == corresponding) for k in range(n_authors))
    url = f"http://{j['host']}/browse.php?a_code={code}&slc_lang=other&sid=1"
    return (
        "\t<article>\n\n\n\t<language>other</language>\n"
        f"\t<article_id_doi>{doi}</article_id_doi>\n"
        f"\t<title_fa>{sentence(rng, words.FA_WORDS, rng.randint(8, 18))}</title_fa>\n"
        f"\t<title>{sentence(rng, words.EN_WORDS, rng.randint(8, 18)).capitalize()}</title>\n"
        f"\t<subject_fa>{subject[1]}</subject_fa>\n\t<subject>{subject[0]}</subject>\n"
        f"\t<content_type_fa>{ctype[1]}</content_type_fa>\n\t<content_type>{ctype[0]}</content_type>\n"
        f"\t<abstract_fa>{escape(abstract_html(rng, True), QUOT)}</abstract_fa>\n"
        f"\t<abstract>{escape(abstract_html(rng, False), QUOT)}</abstract>\n"
        f"\t<keyword_fa>{keywords_fa}</keyword_fa>\n\t<keyword>{keywords_en}</keyword>\n"
        f"\t<start_page>{first_page}</start_page>\n\t<end_page>{first_page + pages}</end_page>\n"
        f"\t<web_url>{escape(url)}</web_url>\n\n\n<author_list>\n{authors}</author_list>\n\n\n\t</article>\n"
    )


def issue_xml(rng: random.Random, j: dict, volume: int, number: int, codes: list[str], author_code: int) -> str:
    """Return the text of one issue file holding the articles ``codes``."""
    year = 2000 + volume
    month = 1 + (number - 1) * 3
    articles, page = [], 1
    for k, code in enumerate(codes):
        articles.append(article_xml(rng, j, code, page, author_code + 10 * k))
        page += 20
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<journal>\n'
        f"<title>{j['title']}</title>\n<title_fa>{j['title_fa']}</title_fa>\n"
        f"<short_title>{j['title']}</short_title>\n<subject></subject>\n"
        f"<web_url>http://{j['host']}</web_url>\n"
        "<journal_hbi_system_id>1</journal_hbi_system_id>\n"
        "<journal_hbi_system_user>admin</journal_hbi_system_user>\n"
        f"<journal_id_issn>{j['issn']}</journal_id_issn>\n"
        f"<journal_id_issn_online>{j['issn_online']}</journal_id_issn_online>\n"
        f"<journal_id_pii></journal_id_pii>\n<journal_id_doi>{j['doi']}</journal_id_doi>\n"
        "<language>fa</language>\n"
        f"<pubdate>\n\t<type>jalali</type>\n\t<year>{year - 621}</year>\n\t<month>{month}</month>\n"
        "\t<day>1</day>\n</pubdate>\n"
        f"<pubdate>\n\t<type>gregorian</type>\n\t<year>{year}</year>\n\t<month>{month}</month>\n"
        "\t<day>1</day>\n</pubdate>\n"
        f"<volume>{volume}</volume>\n<number>{number}</number>\n"
        "<publish_type>online</publish_type>\n<publish_edition>1</publish_edition>\n"
        "<article_type>fulltext</article_type>\n"
        "<articleset>\n" + "".join(articles) + "</articleset>\n</journal>\n"
    )


def generate(n_articles: int, out: Path, seed: int = 1, journals: int = JOURNALS) -> list[Path]:
    """Write issue files holding ``n_articles`` articles under ``out``; return their paths."""
    rng = random.Random(seed)
    metas = [journal(rng, i) for i in range(journals)]
    issue_no = [0] * journals
    written, paths, author_code = 0, [], 100319475328460000000
    while written < n_articles:
        jx = (len(paths)) % journals
        j = metas[jx]
        issue_no[jx] += 1
        volume, number = 1 + (issue_no[jx] - 1) // 4, 1 + (issue_no[jx] - 1) % 4
        size = min(rng.randint(16, 24), n_articles - written)
        codes = [f"A-{jx + 10}-{issue_no[jx]}-{k + 1}" for k in range(size)]
        path = out / f"j{jx + 1:02d}" / f"v{volume:04d}n{number}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(issue_xml(rng, j, volume, number, codes, author_code), encoding="utf-8")
        author_code += 10 * size
        written += size
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    """Command line: generate a corpus and print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--journals", type=int, default=JOURNALS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = generate(args.articles, args.out, args.seed, args.journals)
    size = sum(p.stat().st_size for p in paths)
    print(f"{args.articles} articles in {len(paths)} files, {size / 1e6:.1f} MB, "
          f"{time.perf_counter() - started:.1f} s -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
