"""``python -m news_etl`` is ``news-etl``."""

import sys

from news_etl.cli import main

sys.exit(main())
