"""English dates: December 6, 2026; Sun, December 6."""

DATE_FORMAT = "F j, Y"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
DAY_FORMAT = "D, F j"
LONG_DAY_FORMAT = "l, F j, Y"
DAY_TIME_FORMAT = "F j, H:i"
