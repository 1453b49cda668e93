"""exampletest: keep the Python examples in Markdown documents honest."""

__version__ = "0.1.0"
