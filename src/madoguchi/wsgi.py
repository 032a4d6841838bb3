"""WSGI entry point for gunicorn.

The URLconf (and with it every view module, the planning engine, numpy and scipy) is imported
here rather than on each worker's first request: with `gunicorn --preload` (as `madoguchi serve`
runs it) the workers are forked with everything loaded, so the first residents of a rush do not
wait seconds while a worker imports. The rest of what a first request used to pay for — the
reverse tables and catalogues of every language, the compiled templates — is done here too
(`core.warmup`), without opening the database.

Everything loaded so far lives as long as the process, so it is moved out of the garbage
collector's sight (`gc.freeze`): a worker's collections then skip those objects instead of
walking them — and writing to their pages, which would copy the memory the fork shares.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from madoguchi.core.warmup import warm_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 — import every URL module now, before the fork
warm_up()
gc.collect()
gc.freeze()
