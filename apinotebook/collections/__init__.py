"""Bring your collections: Postman, Insomnia, Bruno, HAR and OpenAPI become notebooks.

>>> from apinotebook.collections import load, write_notebook, to_postman
>>> collection = load("api.postman_collection.json")           # doctest: +SKIP
>>> result = write_notebook(collection, "api.ipynb")           # doctest: +SKIP
>>> print(result.explain())                                    # doctest: +SKIP
>>> to_postman("api.ipynb", "api.postman_collection.json")     # doctest: +SKIP

From a shell: ``apinotebook import FILE -o NOTEBOOK.ipynb [--env ENVFILE] [--explain]``
and ``apinotebook export-collection NOTEBOOK -o collection.json``. See
``docs/collections.md`` for what maps to what in each format.
"""

from apinotebook._core.converters import register_converter
from apinotebook.collections._attach import attach
from apinotebook.collections._cli import add_collection_commands
from apinotebook.collections._load import FORMATS, load, load_environment
from apinotebook.collections._model import (
    Auth,
    Body,
    Collection,
    CollectionError,
    Environment,
    Folder,
    FormField,
    Header,
    Note,
    Request,
    Script,
    Variable,
)
from apinotebook.collections._notebook_in import collection_from_notebook
from apinotebook.collections._postman_out import (
    collection_to_postman,
    environment_to_postman,
    to_postman,
)
from apinotebook.collections._writer import ImportResult, write_notebook

register_converter("postman", to_postman)

__all__ = [
    "FORMATS",
    "Auth",
    "Body",
    "Collection",
    "CollectionError",
    "Environment",
    "Folder",
    "FormField",
    "Header",
    "ImportResult",
    "add_collection_commands",
    "Note",
    "Request",
    "Script",
    "Variable",
    "attach",
    "collection_from_notebook",
    "collection_to_postman",
    "environment_to_postman",
    "load",
    "load_environment",
    "to_postman",
    "write_notebook",
]
