"""`rootstock report` and `rootstock calibrate`: a release's numbers made visible, thresholds proposed.

ROOTS chose its per-language filter thresholds by looking at metric distributions with native
speakers (Laurençon et al. 2022, arXiv:2303.03915; the app's input is made by
bigscience-workshop/data-preparation
`preprocessing/training/01b_oscar_cleaning_and_filtering/get_data_for_visualization.py`). Every document
of a release carries its metrics and every count is in the manifest, so the report is built
from those alone, without running a stage again.
"""
