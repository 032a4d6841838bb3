"""Date formats per language (settings.FORMAT_MODULE_PATH), beside Django's own.

Each `<locale>/formats.py` may override Django's formats for that language and must define the
project's named formats, used in templates as `{{ day|date:"DAY_FORMAT" }}`:

- `DAY_FORMAT`: a day with its weekday, without the year (12月6日（日）, Sun, December 6);
- `LONG_DAY_FORMAT`: the same with the year;
- `DAY_TIME_FORMAT`: a day and a time of day, without the year.

Django's `DATE_FORMAT`, `MONTH_DAY_FORMAT` and `YEAR_MONTH_FORMAT` are used for the rest. A language
without a module here falls back to its base language's module (ja-x-easy → ja); a test checks
that every language offered gets every named format (tests/test_translations.py).
"""

NAMED_FORMATS = ("DAY_FORMAT", "LONG_DAY_FORMAT", "DAY_TIME_FORMAT")
