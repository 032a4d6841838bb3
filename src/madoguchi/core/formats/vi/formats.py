"""Vietnamese dates: 6/12/2026; Chủ nhật, 6/12."""

DATE_FORMAT = "j/n/Y"
MONTH_DAY_FORMAT = "j/n"
YEAR_MONTH_FORMAT = r"\T\h\á\n\g n/Y"
DAY_FORMAT = "D, j/n"
LONG_DAY_FORMAT = "D, j/n/Y"
DAY_TIME_FORMAT = "H:i j/n"
