"""Benign sites on shared platforms, from the ``Homepage:`` fields of Debian's packages.

    python eval/debian_homepages.py --release "$(grep ^Date: <InRelease>)" \\
        /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 \\
        > eval/links/debian_platform_homepages.txt

(``<InRelease>``: the same folder's ``…_dists_bookworm_InRelease``.)

The link data has almost no benign site on a shared platform (``*.github.io``,
``*.readthedocs.io``, ``*.sourceforge.io``): the Umbrella list lost those
platforms with every registrable that a malicious list names. Debian's package
index names the home pages of about 30,000 free-software projects, many of them
such sites, and no one lists a phishing page there. Every distinct home page whose
host is a strict subdomain of a bundled platform (:meth:`blocklists.PlatformLists.platform_of`)
is written, sorted, after a header naming the index and its date, so that the false
positives of the platform rules can be measured (``eval/urls.py``).

The index is read with ``/usr/lib/apt/apt-helper cat-file``, which undoes apt's
compression (lz4 here); the output is committed, so the evaluation needs no apt.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", type=Path, help="a Debian Packages index (apt's lists)")
    ap.add_argument("--release", default="", help="the index's Release date, for the header")
    args = ap.parse_args(argv)
    pl = blocklists.platforms()
    out: set[str] = set()
    for url in homepages(args.index):
        try:
            p = normalize(url)
        except InvalidURLError:
            continue
        if p.host and pl.platform_of(p.host) is not None:
            out.add(p.url)
    print(f"# Homepage fields of {args.index.name} (Release {args.release}) whose host is "
          "a site on a shared platform; written by eval/debian_homepages.py")
    for u in sorted(out):
        print(u)
    return 0


if __name__ == "__main__":
    sys.exit(main())
