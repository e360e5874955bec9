"""FLEX_TEMPLATE_PYTHON_PY_FILE of docker/launcher.Dockerfile: Dataflow's template launcher runs
`python flex_template_main.py --config=… --output=… <pipeline options>`; see
rootstock.pipeline.cli.flex_template for how that becomes `rootstock run`."""

import sys

from rootstock.pipeline.cli.flex_template import main

if __name__ == "__main__":
    sys.exit(main())
