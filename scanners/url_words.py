"""Curated words that the segmented-host rules look for (data, no logic).

Written by the scamscan developers from the kinds of names described in the
tracker's issue 11 and public bank/police warnings; never copied from an
evaluation list. Vietnamese words are unaccented syllables joined by a space
(the form :meth:`scanners.segment.Segmenter.words` gives).
"""

from __future__ import annotations

# Service words that, beside a bank, wallet or shop name, make a host read as
# "customer care / offer / loan of <brand>".
SERVICE_WORDS = frozenset({
    "cham soc", "uu dai", "khach hang", "truc tuyen", "han muc", "vay", "tin chap",
    "giai ngan", "tin dung", "ho tro", "dich vu", "nang cap", "mo the", "rut tien",
    "tai khoan", "xac thuc", "xac minh", "dang nhap", "kich hoat", "vay von",
    "khuyen mai", "qua tang", "hoan tien", "hoan phi", "tra gop", "the", "ngan hang",
    "nang han", "cap nhat", "tong dai", "giao hang", "don hang", "nhan qua", "tich diem",
    "doi diem", "hoi vien", "tri an",
    "care", "support", "online", "login", "verify", "secure", "service", "card",
    "credit", "loan", "cskh", "otp", "update", "account", "help", "bonus", "gift",
    "reward", "promo", "visa", "vip", "ebank", "banking", "hotro", "uudai", "vayvon",
})

# Residence, identity and public-service words: on a name outside gov.vn they
# read as a fake government portal ("thong tin cu tru", "dan cu").
GOV_STRONG = frozenset({
    "cu tru", "dan cu", "cong dan", "dinh danh", "can cuoc", "ho chieu", "dich vu cong",
    "cccd", "vneid", "tam tru", "thuong tru", "ho khau", "bao hiem xa hoi",
})
GOV_WEAK = frozenset({
    "thong tin", "dien tu", "dang ky", "cap nhat", "tra cuu", "xac thuc", "kich hoat",
    "quoc gia", "cong an", "chinh phu", "nha nuoc", "thu tuc", "ho so", "muc",
    "giay to", "tich hop", "khai bao",
})

# Global and Vietnamese consumer brands that international and local phishing
# imitate, for the segmenter and the near-miss rule (their own sites are
# simply not near-misses of themselves).
GLOBAL_BRANDS = frozenset({
    "paypal", "apple", "icloud", "microsoft", "office", "outlook", "netflix", "amazon",
    "facebook", "instagram", "whatsapp", "google", "gmail", "yahoo", "fedex", "usps",
    "wellsfargo", "coinbase", "binance", "metamask", "steam", "steamcommunity", "adobe",
    "docusign", "dropbox", "linkedin", "twitter", "telegram", "zalo", "shopee", "lazada",
    "tiki", "sendo", "grab", "viettelpost", "vnpost", "jtexpress", "ninjavan",
    "bestexpress", "aeon", "lotte", "bachhoaxanh", "dienmayxanh", "thegioididong",
    "fptshop", "tiktok", "roblox", "discord", "trezor", "ledger", "blockchain",
    "americanexpress", "mastercard", "office365", "microsoft365", "onedrive", "sharepoint",
    "walmart", "ebay", "alibaba", "aliexpress", "booking", "airbnb", "spotify", "dhl", "traveloka",
    "agoda", "garena", "samsung", "xiaomi",
})

# Compound words shown as one word in evidence ("cham soc"), besides the
# service and government words above.
COMPOUNDS = frozenset(
    {w for w in SERVICE_WORDS | GOV_STRONG | GOV_WEAK if " " in w}
    | {"ngan hang", "dien thoai", "viet nam", "tiet kiem", "chuyen tien", "nap tien",
       "lua dao", "tuyen dung", "viec lam", "bao hiem", "su kien", "chan le", "tai xiu"}
)
