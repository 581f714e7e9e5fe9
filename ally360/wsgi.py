import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ally360.settings")
application = get_wsgi_application()

# Import every view (the URLconf) now rather than on the first request, then move what start-up
# built to the collector's permanent generation: each full collection then walks only what
# requests allocate, not the thousands of long-lived module, class and form objects (measured
# in bench/: the pages' modules cost a POS sale 6-8 % until this).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - loads the URLconf and every view it imports
gc.collect()  # start-up's garbage goes now, not frozen for the life of the process
gc.freeze()
