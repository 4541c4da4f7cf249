"""Worst-case time of the message check on hostile 10,000-character texts.

    python bench/message_hostile_bench.py [--limit-ms 100]

A trigger phrase of the rules ("phí ", "chúng tôi ", "khong bao gio ") followed by
a long run of underscores, dashes, digits or word fragments: the inputs on which a
phrase pattern whose separator and word classes overlap ("_" is both) backtracks
quadratically. Prints the slowest case (CPU time) and exits 1 above the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from scanners.message import MAX_TEXT_CHARS, check_message
from scanners.url_offline import default_scanner

HEADS = ("khong bao gio ", "tai khoan do ", "nap toi thieu ", "toi la ", "i am ", "chung toi ",
         "phí ", "lai ", "loi nhuan ", "chuyển ", "dang nhap ", "pay ", "box ", "thung qua ",
         "may tinh ", "so ", "dai uy ", "canh bao ", "khuyến cáo ", "with your ", "boi thuong ",
         "hoan tien ", "cong an ", "send ")
FILLS = {"underscores": "_" * 9000, "a_": "a_" * 4500, "words": "a " * 4500,
         "dashes": "- " * 4500, "digits": "9" * 9000, "a-": "a-" * 4500, " _": " _" * 4500,
         "_a": "_a" * 4500, "ab_": "ab_" * 3000, "letters": "a" * 9000, "ab": "ab" * 4500}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit-ms", type=float, default=100.0)
    args = ap.parse_args(argv)
    scanner = default_scanner()
    loop = asyncio.new_event_loop()
    worst, case = 0.0, ("", "")
    for head in HEADS:
        for name, fill in FILLS.items():
            text = (head + fill)[:MAX_TEXT_CHARS]
            t = time.process_time()
            loop.run_until_complete(check_message(text, scanner, lang="vi"))
            ms = (time.process_time() - t) * 1000
            if ms > worst:
                worst, case = ms, (head, name)
    loop.close()
    print(f"hostile message check ({len(HEADS) * len(FILLS)} texts of up to "
          f"{MAX_TEXT_CHARS} chars): worst CPU time {worst:.1f} ms on {case[0]!r} + "
          f"{case[1]} (limit {args.limit_ms:g} ms)")
    return 0 if worst <= args.limit_ms else 1


if __name__ == "__main__":
    sys.exit(main())
