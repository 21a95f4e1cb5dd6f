"""Image in, image out. Imports neither the web layer nor the database."""

from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import RemovalResult, Remover

__all__ = ["RemovalOptions", "RemovalResult", "Remover"]
