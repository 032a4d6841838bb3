"""Korean dates: 2026년 12월 6일, 12월 6일 (일요일)."""

DATE_FORMAT = "Y년 n월 j일"
MONTH_DAY_FORMAT = "n월 j일"
YEAR_MONTH_FORMAT = "Y년 n월"
DAY_FORMAT = "n월 j일 (D)"
LONG_DAY_FORMAT = "Y년 n월 j일 (D)"
DAY_TIME_FORMAT = "n월 j일 H:i"
