"""Motif interpretation of trained sequence models.

Kernel motifs (pysster), logos, positional/class enrichment, co-occurrence clustering, Tomtom
against motif databases (memelite), neuron contribution and motif-pair interaction (CombMotif),
attribution motifs (ISM / Integrated Gradients + TF-MoDISco). Entry point: :func:`interpret_model`.
"""

from components.motifs.meme import Motif, read_meme, write_meme
from components.motifs.pipeline import interpret_model

__all__ = ["Motif", "read_meme", "write_meme", "interpret_model"]
