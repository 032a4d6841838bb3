"""Brazilian Portuguese dates: 06/12/2026; Dom, 06/12."""

DATE_FORMAT = "d/m/Y"
MONTH_DAY_FORMAT = "d/m"
YEAR_MONTH_FORMAT = r"F \d\e Y"
DAY_FORMAT = "D, d/m"
LONG_DAY_FORMAT = "D, d/m/Y"
DAY_TIME_FORMAT = "d/m H:i"
