"""Default configuration. Override in ``instance/config.py`` or with ``OAISERVER_<KEY>`` variables.

Every key is documented in the README (section "Configuration").
"""

#: Signs resumption tokens; every host serving one database needs the same key. Empty means
#: "generate one into <instance folder>/secret_key on first start". The tutorial value "dev"
#: is refused outside debug/testing.
SECRET_KEY = ""

#: Path of the SQLite database; empty means ``<instance folder>/oai.sqlite3``.
DATABASE = ""

#: Shown in Identify.
OAI_REPOSITORY_NAME = "oaiserver demo repository"

#: The base URL harvesters use; echoed in every response. Empty means "the URL of the request".
OAI_BASE_URL = ""

#: One or more administrator addresses (a list, or a comma-separated string from the environment).
OAI_ADMIN_EMAILS = ["admin@localhost.localdomain"]

#: The repository part of ``oai:{repo}:{journal}/{article}`` identifiers (a domain name).
OAI_REPOSITORY_IDENTIFIER = "oaiserver.localhost"

#: Records per ListRecords page.
OAI_PAGE_SIZE = 100

#: Headers per ListIdentifiers page (also sets per ListSets page).
OAI_IDENTIFIERS_PAGE_SIZE = 500

#: Lifetime of a resumption token in seconds (7 days).
OAI_TOKEN_TTL = 7 * 24 * 3600

#: Publisher name for dc:publisher and JATS <publisher-name>; empty falls back to the journal title.
OAI_PUBLISHER = ""

#: Access right for dc:rights, e.g. "info:eu-repo/semantics/openAccess"; empty emits none.
OAI_RIGHTS = ""

#: Licence URL for dc:rights and JATS <permissions>, e.g. "https://creativecommons.org/licenses/by/4.0/".
OAI_LICENSE_URL = ""

#: Emit the corresponding author's e-mail address in JATS (crosswalks.md D9).
OAI_EMIT_CORRESPONDING_EMAIL = True

#: Extra article-type mappings for JATS @article-type: {"content type text (lower case)": "jats-type"}.
OAI_ARTICLE_TYPES = {}

#: JATS <journal-id journal-id-type="publisher-id"> per journal key; fallback: the journal's host.
OAI_JOURNAL_IDS = {}

#: Per journal key (print ISSN, else electronic ISSN, else host): what the issue files do not say.
#: {"2008-8701": {"access_right": "open" | "embargoed" | "restricted" | "metadata-only",
#: "embargo_end": "YYYY-MM-DD" (embargoed only), "license_url": "https://…", "license_label": "CC BY 4.0",
#: "publisher": "…"}}. A journal's own value wins over OAI_RIGHTS, OAI_LICENSE_URL and OAI_PUBLISHER.
#: Without an access right (its own, or an OAI_RIGHTS info:eu-repo term) a journal is not served
#: in oai_openaire; journals with access right "open" make up the "openaire" set.
OAI_JOURNALS = {}

#: Content codings offered when the client accepts them (listed in Identify).
OAI_COMPRESSION = ["gzip", "deflate"]

#: Ingest the bundled demo issue when `oaiserver serve` starts on an empty database.
OAI_LOAD_DEMO = True

#: Where every response's <?xml-stylesheet?> points, so a browser shows a readable page; an absolute
#: path is taken below the app's root (SCRIPT_NAME). Empty leaves the instruction out. Browsers load
#: XSLT only from the page's own origin, so keep it on this server.
OAI_STYLESHEET = "/oai.xsl"

#: Requests in progress per process; beyond it the server answers 503 with Retry-After. 0: no limit.
#: With gunicorn's sync workers (one request per process) the limit only matters for threaded workers.
OAI_MAX_CONCURRENT_REQUESTS = 16

#: Seconds sent in the Retry-After header of a 503 (at least 1).
OAI_RETRY_AFTER = 5

#: Largest request body accepted (POST); larger bodies get 413. Flask's own key.
MAX_CONTENT_LENGTH = 64 * 1024
