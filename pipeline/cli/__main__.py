import sys

from rootstock.pipeline.cli import main

sys.exit(main())
