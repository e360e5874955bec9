"""The data catalogue: one governed entry per source, the language registry, the mix specs.

Everything a release says about *where data came from and under which terms* is read
from here, so a release can be audited without the code that made it.
"""

from catalog.registry import Language, LanguageRegistry, load_registry
from catalog.schema import CatalogError, ConnectorSpec, SourceEntry
from catalog.loader import Catalog, load_catalog, validate_catalog

__all__ = [
    "Catalog",
    "CatalogError",
    "ConnectorSpec",
    "Language",
    "LanguageRegistry",
    "SourceEntry",
    "load_catalog",
    "load_registry",
    "validate_catalog",
]
