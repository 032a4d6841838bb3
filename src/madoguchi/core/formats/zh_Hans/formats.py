"""Simplified Chinese dates: 2026年12月6日, 12月6日（星期日）."""

DATE_FORMAT = "Y年n月j日"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
DAY_FORMAT = "n月j日（D）"
LONG_DAY_FORMAT = "Y年n月j日（D）"
DAY_TIME_FORMAT = "n月j日 H:i"
