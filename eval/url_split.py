"""The time split of the link data, shared by the model's training and its evaluation.

Used by ``eval/train_url_model.py`` (``make model-url``) and ``eval/urls.py``.

* **Malicious, split in time.** Training: hostsVN entries first seen before
  :data:`HOSTSVN_CUT`, the ChongLuaDao v2 list (frozen since 2023-09, before
  the cut), the undated v1 blacklist and the 2021 typed blacklist, PhishTank 2018-2021, ISCX-2016
  phishing, OpenPhish entries first seen before :data:`OPENPHISH_CUT`.
  "Later" (measured, never trained or tuned on): hostsVN and the
  government-impersonation rows first seen on or after :data:`HOSTSVN_CUT`,
  OpenPhish on or after :data:`OPENPHISH_CUT`; from them every host and
  registrable domain that occurs anywhere on the training side is removed.
* **Benign, split by registrable domain.** Tranco top 10k, the Umbrella top
  100k, the known-good Vietnamese list and the ISCX-2016 benign URLs; the
  SHA-256 of the registrable domain puts it in ``train`` (60%), ``tune``
  (20%: thresholds are chosen here) or ``test`` (20%: reported). No
  registrable is on two sides.
* **Sites on shared platforms, a later set of their own.** A later OpenPhish
  link whose registrable is on the training side only because it is a shared
  platform (``github.io``, ``webflow.io``, ``pages.dev``: the bundled platform
  lists, :meth:`blocklists.PlatformLists.platform_of`) is a new site all the
  same, as the private section of the Public Suffix List says: its host is the
  site. Such links, when their host is not on the training side, are measured
  apart as :data:`PLATFORM_SET`, not mixed into the OpenPhish row, whose
  figures stay comparable with earlier rounds. Their benign counterpart is
  :data:`DEBIAN_HOMEPAGES` (sites on shared platforms that Debian's packages
  name as their home pages), split into train, tune and test by host with
  :func:`side`: without them the model met platform sites only as phishing.
* **Project home pages, benign links with a path.** The benign links with a path
  of the data are the ISCX-2016 URLs of 310 big sites, so the model met pages of
  small sites only as phishing (it flagged 4% of Debian's home pages). The other
  home pages of Debian's packages (:data:`DEBIAN_OTHERS`, at most 10 per
  registrable) are split by registrable with :func:`side`: train rows, a tune row
  and a test row. Their names are not added to the training side's names, so that
  the later sets stay those of earlier rounds.
* **Benign registrables whose names nobody has read.** The benign registrable test row was
  read name by name once (docs/evaluation.md, issue 11's twelfth run), so it is a
  tuned figure. The registrable domains of the Debian home pages' tune and test
  rows, as bare names and less every name of the other benign sets, are a benign
  registrable row of their own (:attr:`Split.test_project_names`), measured the
  same way.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import blocklists
from scanners.errors import InvalidURLError
from scanners.normalize import ParsedURL, normalize

PLATFORM_SET = "phishing sites on shared platforms (OpenPhish)"
"""The later set of new sites on shared platforms (see the module's docstring)."""
DEBIAN_HOMEPAGES = Path(__file__).resolve().parent / "links" / "debian_platform_homepages.txt"
"""Benign sites on shared platforms (``eval/debian_homepages.py``), in the repository."""
DEBIAN_OTHERS = Path(__file__).resolve().parent / "links" / "debian_homepages.txt"
"""The other home pages of Debian's packages (``eval/debian_homepages.py --others``)."""
HOSTSVN_CUT = "2023-10-01"
"""hostsVN (and gov-impersonation) rows first seen from this date are "later"."""
OPENPHISH_CUT = "2025-01-06"
"""OpenPhish rows first seen from this date are "later"."""
CHONGLUADAO_V2_DATE = "2023-09-01"
"""The ChongLuaDao v2 list's content froze in 2023-09 (its rows carry no date)."""
CHONGLUADAO_V1 = True
"""Train on the ChongLuaDao v1 blacklist too (undated, BSD-3-Clause; whole platforms on it
are dropped like every malicious bare host that is a benign name)."""
PHISHTANK_2018_EVERY = 4
"""Every 4th row of the 176k PhishTank 2018-19 rows (by phish_id) keeps training modest."""


def side(registrable: str) -> str:
    """``train``, ``tune`` or ``test`` for a benign registrable domain (deterministic)."""
    b = hashlib.sha256(registrable.encode()).digest()[0] % 10
    return "train" if b < 6 else "tune" if b < 8 else "test"


@dataclass
class Split:
    """Parsed links of every side."""

    train: list[tuple[ParsedURL, int]] = field(default_factory=list)
    """(link, 1 malicious / 0 benign) for fitting."""
    train_seen: list[str] = field(default_factory=list)
    """The date (``YYYY-MM-DD``) each :attr:`train` row was first listed, or ``""`` (benign
    rows, undated lists): for recency weights (``train_url_model.py --half-life``)."""
    tune_hosts: list[ParsedURL] = field(default_factory=list)
    """Benign registrable domains (one per registrable), tune side."""
    tune_urls: list[ParsedURL] = field(default_factory=list)
    """Benign links with a path, tune side."""
    later: dict[str, list[ParsedURL]] = field(default_factory=dict)
    """Malicious sets on the later side, by name."""
    test_hosts: list[ParsedURL] = field(default_factory=list)
    """Benign registrable domains (one per registrable), test side."""
    test_infra: list[ParsedURL] = field(default_factory=list)
    """Every benign host with a subdomain on the test side (mostly Umbrella's CDN and
    service hosts, many per registrable)."""
    test_urls: list[ParsedURL] = field(default_factory=list)
    tune_platform: list[ParsedURL] = field(default_factory=list)
    """Benign sites on shared platforms (Debian's home pages), tune side."""
    test_platform: list[ParsedURL] = field(default_factory=list)
    """The same, test side (reported)."""
    tune_projects: list[ParsedURL] = field(default_factory=list)
    """Debian's other home pages (:data:`DEBIAN_OTHERS`), tune side."""
    test_projects: list[ParsedURL] = field(default_factory=list)
    """The same, test side (reported)."""
    tune_project_names: list[ParsedURL] = field(default_factory=list)
    """The registrable domains of :attr:`tune_projects` as bare names, less those of the
    other benign sets (Tranco, Umbrella, the known-good list, ISCX)."""
    test_project_names: list[ParsedURL] = field(default_factory=list)
    """The same of :attr:`test_projects` (reported): benign registrables whose names no
    round has read, beside the benign registrable test row (those whose home page is
    the bare name were counted before, in the aggregate of :attr:`test_projects`)."""
    removed: dict[str, int] = field(default_factory=dict)
    """Later rows dropped because their host or registrable is on the training side."""


def _parse(text: str) -> ParsedURL | None:
    text = text.strip().replace("&amp;", "&")
    if not text or text.startswith("#"):
        return None
    try:
        return normalize(text)
    except InvalidURLError:
        return None


def _parse_all(path: Path) -> Iterator[ParsedURL]:
    """The links of a file of one link a line (``#`` lines skipped) that normalise."""
    for line in _lines(path):
        p = _parse(line)
        if p is not None:
            yield p


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                yield line.strip()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


VALIDATION_CUTS = ("2023-07-01", "2025-01-03")
"""hostsVN and OpenPhish cuts of the *validation* split, inside the training period:
settings are chosen by training before these dates and measuring on the window up
to :data:`HOSTSVN_CUT` / :data:`OPENPHISH_CUT` (``train_url_model.py --validate``)."""


def load(data: Path, hostsvn_cut: str = HOSTSVN_CUT, openphish_cut: str = OPENPHISH_CUT,
         hostsvn_end: str | None = None, openphish_end: str | None = None,
         hostsvn_window: str | None = None, openphish_window: str | None = None) -> Split:
    """Read ``data`` (``../shared/data/urls``) into the split described above.

    With ``hostsvn_end`` / ``openphish_end`` the rows first seen on or after those
    dates are not read at all, and the "later" side is the window from the cut to
    the end: the validation split of :data:`VALIDATION_CUTS`.

    With ``hostsvn_window`` (a date after ``hostsvn_cut``) the hostsVN and
    government rows first seen between the cut and that date are a gap: neither
    trained on nor measured, though their hosts are still removed from the later
    side, so that the measured window is the same as with the cut at
    ``hostsvn_window`` (how much do the months before a window add?
    ``train_url_model.py --validate --recency-cut``). ``openphish_window`` does
    the same for OpenPhish (``--recency-cut-openphish``).
    """
    sp = Split()

    def keep(first_seen: str, end: str | None) -> bool:
        return end is None or first_seen < end

    mal_train: list[ParsedURL] = []
    mal_seen: list[str] = []
    gap: list[ParsedURL] = []
    window = hostsvn_window or hostsvn_cut
    later_raw: dict[str, list[ParsedURL]] = {
        "new Vietnamese scam hosts (hostsVN)": [], "government-service fakes": [],
        "international phishing URLs (OpenPhish)": []}

    def add(bucket: list[ParsedURL], text: str, seen_on: str = "") -> None:
        p = _parse(text)
        if p is not None and p.host:
            bucket.append(p)
            if bucket is mal_train:
                mal_seen.append(seen_on[:10])

    def later_or_gap(name: str, first_seen: str) -> list[ParsedURL]:
        return later_raw[name] if first_seen >= window else gap

    for r in _csv(data / "vn_scam_hosts_dev.csv"):
        if not keep(r["first_seen"], hostsvn_end):
            continue
        if r["first_seen"] < hostsvn_cut:
            add(mal_train, r["host"], r["first_seen"])
        else:
            add(later_or_gap("new Vietnamese scam hosts (hostsVN)", r["first_seen"]), r["host"])
    for r in _csv(data / "gov_impersonation_dev.csv"):
        if (r["label"] == "malicious" and r["first_seen_in_list"] >= hostsvn_cut
                and keep(r["first_seen_in_list"], hostsvn_end)):
            add(later_or_gap("government-service fakes", r["first_seen_in_list"]), r["host"])
    # Undated lists get the date their content stands for, for recency weights
    # only: ChongLuaDao v2 froze in 2023-09, the typed set is of 2021-02/04,
    # ISCX of 2016; the v1 blacklist (URL-based, 2020-2022 API) reads as 2021-06.
    for h in _lines(data / "chongluadao_hosts.txt"):
        add(mal_train, h, CHONGLUADAO_V2_DATE)
    if CHONGLUADAO_V1:
        for h in _lines(data / "chongluadao_v1_hosts.txt"):
            add(mal_train, h, "2021-06-01")
    typed = json.loads((data / "chongluadao_typed_2021.json").read_text(encoding="utf-8"))
    for item in typed["blacklist"]:
        add(mal_train, str(item.get("url", "")), "2021-03-01")
    for r in _csv(data / "phishtank_2021.csv"):
        add(mal_train, r["url"], r["submission_time"])
    for i, r in enumerate(_csv(data / "phishtank_2018_2019.csv")):
        if i % PHISHTANK_2018_EVERY == 0:
            add(mal_train, r["url"], r["submission_time"])
    for u in _lines(data / "iscx2016_phishing.txt"):
        add(mal_train, u, "2016-01-01")
    for line in _lines(data / "openphish_dev.jsonl"):
        row = json.loads(line)
        if not keep(row["first_seen"], openphish_end):
            continue
        if row["first_seen"] < openphish_cut:
            add(mal_train, row["url"], row["first_seen"])
        elif row["first_seen"] < (openphish_window or openphish_cut):
            add(gap, row["url"])
        else:
            add(later_raw["international phishing URLs (OpenPhish)"], row["url"])

    benign: list[ParsedURL] = []
    with (data / "tranco_top10k.csv").open(encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) == 2:
                add(benign, row[1])
    for h in _lines(data / "benign_umbrella_top100k.txt"):
        add(benign, h)
    for r in _csv(data / "vn_domains_known_good.csv"):
        add(benign, r["registrable_domain"])
        for h in r["hosts_seen"].split(";"):
            if h:
                add(benign, h)
    for u in _lines(data / "benign_urls_iscx2016.txt"):
        add(benign, u)

    benign_names = {p.host for p in benign} | {p.registrable_domain for p in benign}
    train_hosts: set[str] = set()
    train_regs: set[str] = set()
    seen: set[str] = set()
    for p, day in zip(mal_train, mal_seen, strict=True):
        # A malicious row that is a whole benign site (facebook.com on a list
        # because of one page) teaches nothing true about that name.
        if (p.path in ("", "/") and p.host in benign_names) or p.url in seen:
            continue
        seen.add(p.url)
        sp.train.append((p, 1))
        sp.train_seen.append(day)
        train_hosts.add(p.host)
        train_regs.add(p.registrable_domain or p.host)
    for p in gap:
        train_hosts.add(p.host)
        train_regs.add(p.registrable_domain or p.host)
    seen.clear()
    seen_regs: set[str] = set()
    for p in benign:
        if p.url in seen:
            continue
        seen.add(p.url)
        s = side(p.registrable_domain or p.host)
        has_path = p.path not in ("", "/")
        if s == "train":
            sp.train.append((p, 0))
            sp.train_seen.append("")
            train_hosts.add(p.host)
            train_regs.add(p.registrable_domain or p.host)
        elif has_path:
            (sp.tune_urls if s == "tune" else sp.test_urls).append(p)
        elif p.subdomain and p.subdomain != "www":
            if s == "test":
                sp.test_infra.append(p)
        else:
            # Users meet registrables (and www.) far more than CDN hosts, and
            # one registrable must not weigh as much as its 50 service hosts.
            reg_p = _parse(p.registrable_domain or p.host)
            if reg_p is not None and reg_p.url not in seen_regs:
                seen_regs.add(reg_p.url)
                (sp.tune_hosts if s == "tune" else sp.test_hosts).append(reg_p)
    platforms = blocklists.platforms()
    on_platform: list[ParsedURL] = []
    for name, rows in later_raw.items():
        kept: list[ParsedURL] = []
        done: set[str] = set()
        for p in rows:
            if p.url in done:
                continue
            done.add(p.url)
            if p.host in train_hosts or (p.registrable_domain or p.host) in train_regs:
                sp.removed[name] = sp.removed.get(name, 0) + 1
                if (name == "international phishing URLs (OpenPhish)"
                        and p.host not in train_hosts
                        and platforms.platform_of(p.host) is not None):
                    on_platform.append(p)
                continue
            kept.append(p)
        sp.later[name] = kept
    sp.later[PLATFORM_SET] = on_platform
    seen_sites: set[str] = set()
    for p in _parse_all(DEBIAN_HOMEPAGES):
        # The site (the host) is the unit: a platform's sites have many owners.
        s = side(p.host)
        if s == "train":
            # The site's name only: the paths of project pages (/libfoo/) must not
            # teach the path features that short paths are benign.
            site = _parse(p.host)
            if site is not None and site.url not in seen_sites:
                seen_sites.add(site.url)
                sp.train.append((site, 0))
                sp.train_seen.append("")
        else:
            (sp.tune_platform if s == "tune" else sp.test_platform).append(p)
    for p in _parse_all(DEBIAN_OTHERS):
        s = side(p.registrable_domain or p.host)
        if s == "train":
            sp.train.append((p, 0))
            sp.train_seen.append("")
        else:
            (sp.tune_projects if s == "tune" else sp.test_projects).append(p)
    for pages, names in ((sp.tune_projects, sp.tune_project_names),
                         (sp.test_projects, sp.test_project_names)):
        for reg in sorted({p.registrable_domain for p in pages if p.registrable_domain}
                          - benign_names):
            site = _parse(reg)
            if site is not None:
                names.append(site)
    return sp
