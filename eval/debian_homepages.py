"""Benign links from the ``Homepage:`` fields of Debian's packages.

    python eval/debian_homepages.py --release "$(grep ^Date: <InRelease>)" \\
        /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 \\
        > eval/links/debian_platform_homepages.txt
    python eval/debian_homepages.py --others --release "…" <the same index> \\
        > eval/links/debian_homepages.txt

(``<InRelease>``: the same folder's ``…_dists_bookworm_InRelease``.)

The link data has almost no benign site on a shared platform (``*.github.io``,
``*.readthedocs.io``, ``*.sourceforge.io``): the Umbrella list lost those
platforms with every registrable that a malicious list names. Debian's package
index names the home pages of about 30,000 free-software projects, many of them
such sites, and no one lists a phishing page there. Every distinct home page whose
host is a strict subdomain of a bundled platform (:meth:`blocklists.PlatformLists.platform_of`)
is written, sorted, after a header naming the index and its date, so that the false
positives of the platform rules can be measured (``eval/urls.py``).

With ``--others`` it writes the rest instead: the home pages that are not on a
shared platform, at most :data:`PER_REGISTRABLE` per registrable domain (chosen by
the SHA-256 of the link, so that ``github.com``'s 12,754 do not drown the rest):
pages of small and large sites, most with a path, which the benign links of the
link data (the ISCX-2016 URLs of 310 big sites) lack.

The index is read with ``/usr/lib/apt/apt-helper cat-file``, which undoes apt's
compression (lz4 here); the output is committed, so the evaluation needs no apt.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

import blocklists
from scanners.errors import InvalidURLError
from scanners.normalize import normalize


def homepages(index: Path) -> list[str]:
    """Every distinct ``Homepage:`` value of a Debian ``Packages`` index."""
    text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(index)],
                          check=True, capture_output=True, text=True).stdout
    return sorted({line.split(":", 1)[1].strip() for line in text.splitlines()
                   if line.startswith("Homepage:")})


PER_REGISTRABLE = 10
"""``--others``: links kept per registrable domain."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", type=Path, help="a Debian Packages index (apt's lists)")
    ap.add_argument("--release", default="", help="the index's Release date, for the header")
    ap.add_argument("--others", action="store_true",
                    help="the home pages not on a shared platform, at most "
                         f"{PER_REGISTRABLE} per registrable domain")
    args = ap.parse_args(argv)
    pl = blocklists.platforms()
    out: set[str] = set()
    others: dict[str, set[str]] = {}
    for url in homepages(args.index):
        try:
            p = normalize(url)
        except InvalidURLError:
            continue
        if not p.host:
            continue
        if pl.platform_of(p.host) is not None:
            out.add(p.url)
        elif p.ip is None:
            others.setdefault(p.registrable_domain or p.host, set()).add(p.url)
    if args.others:
        out = set()
        for links in others.values():
            out.update(sorted(links, key=lambda u: hashlib.sha256(u.encode()).digest())
                       [:PER_REGISTRABLE])
        what = (f"whose host is on no shared platform, at most {PER_REGISTRABLE} per "
                "registrable domain")
    else:
        what = "whose host is a site on a shared platform"
    print(f"# Homepage fields of {args.index.name} (Release {args.release}) {what}; "
          "written by eval/debian_homepages.py")
    for u in sorted(out):
        print(u)
    return 0


if __name__ == "__main__":
    sys.exit(main())
